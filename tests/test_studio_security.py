"""codex-db studio's security rules over HTTP, each an attack that used to work (issue 19)."""

from __future__ import annotations

import email.message
import socket
import urllib.request
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest

from codex_db.studio import StudioServer, main
from codex_db.studio import _launch as launch
from codex_db.testing import TestServer
from tests.test_studio import Client, running, seeded

MARK = 424242


@pytest.fixture(scope="module")
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A seeded database with a sequence ``s`` and, where the server has it, dblink."""
    name = seeded(pg_server, migrated_template)
    url = pg_server.database_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE s")
        available = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'dblink'"
        ).fetchone()
        if available and available[0]:
            conn.execute("CREATE EXTENSION dblink")
    yield url
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def studio(db_url: str) -> Iterator[StudioServer]:
    """A read-only studio as the test server's (super)user."""
    with running(db_url, console_timeout=2) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Client:
    """A client holding the studio cookie."""
    return Client(studio).login()


@pytest.fixture
def sql(db_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run a query on the seeded database (as its owner) and return its rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:

        def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
            cur = conn.execute(query, params or None)
            return cur.fetchall() if cur.description else []

        yield run


class TestOrigin:
    def test_cookie_goes_to_no_other_port_of_127_0_0_1(self, studio: StudioServer) -> None:
        """Cookies ignore ports: the studio's host name is its own, so 127.0.0.1:other gets none."""
        reply = Client(studio).request("GET", "/?" + urlencode({"token": studio.guard.token}))
        assert reply.status == 303
        jar = CookieJar()
        headers = email.message.Message()
        headers["Set-Cookie"] = reply.headers["set-cookie"]
        start = urllib.request.Request(studio.start_url)  # noqa: S310
        jar.extract_cookies(_Response(headers), start)  # type: ignore[arg-type]
        for other in ("http://127.0.0.1:9/", "http://localhost:9/", "http://other.localhost:9/"):
            request = urllib.request.Request(other)  # noqa: S310
            jar.add_cookie_header(request)
            assert studio.guard.token not in (request.get_header("Cookie") or ""), other
        own = urllib.request.Request(studio.guard.origin + "/")  # noqa: S310
        jar.add_cookie_header(own)
        assert studio.guard.token in (own.get_header("Cookie") or "")

    @pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:{port}", "localhost"])
    def test_foreign_host_is_refused(self, client: Client, host: str) -> None:
        """DNS rebinding: a request naming another host is refused, cookie or token."""
        header = {"Host": host.format(port=client.port)}
        reply = client.request("GET", "/", headers=header)
        assert reply.status == 421 and "answers only at" in reply.body
        query = "/?" + urlencode({"token": client.server.guard.token})
        reply = client.request("GET", query, headers=header)
        assert reply.status == 421 and "set-cookie" not in reply.headers

    def test_no_open_redirect_after_admission(self, studio: StudioServer) -> None:
        """``/\\evil.example/?token=...`` stays on the studio's origin."""
        query = urlencode({"token": studio.guard.token})
        for path in ("/\\evil.example/", "//evil.example/", "/\\/evil.example/"):
            reply = Client(studio).request("GET", f"{path}?{query}")
            assert reply.status == 303
            assert reply.headers["location"].startswith(studio.guard.origin + "/")

    def test_foreign_cookies_do_not_lock_the_user_out(self, client: Client) -> None:
        """Another site's malformed cookie beside ours is ignored, not a 403."""
        ours = client.cookie
        for header in (f'theme="dark; {ours}', f"a b=1; {ours}", f"x=y;;{ours}", f"{ours}; =x"):
            client.cookie = header
            assert client.get("/").status == 200, header

    def test_ipv6_loopback_binds(self, db_url: str) -> None:
        """``--host ::1`` listens on IPv6 and answers at ``[::1]:port``."""
        with running(db_url, host="::1") as server:
            assert server.start_url.startswith(f"http://[::1]:{server.server_address[1]}/")
            assert Client(server).login().get("/").status == 200


class TestLimits:
    def test_silent_connection_is_closed(self, db_url: str) -> None:
        """A client that sends nothing is dropped after read_timeout; others are served."""
        with running(db_url, read_timeout=0.3) as server:
            with socket.create_connection(("127.0.0.1", server.server_address[1])) as idle:
                idle.settimeout(5)
                assert idle.recv(1) == b""
            assert Client(server).login().get("/").status == 200


class _Response:
    """What `CookieJar.extract_cookies` reads of a response: its headers."""

    def __init__(self, headers: email.message.Message) -> None:
        self._headers = headers

    def info(self) -> email.message.Message:
        return self._headers


class TestLaunchRules:
    @pytest.fixture
    def served(self, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
        """Replace the blocking serve() with a recorder."""
        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(launch, "serve", lambda url, **options: calls.append(options))
        for name in ("DB_METHOD", "DATABASE_URL", "NODE_ENV", "APP_ENV"):
            monkeypatch.delenv(name, raising=False)
        return calls

    @pytest.mark.parametrize(
        ("host", "warns"),
        [("127.evil.example", True), ("127.0.0.2", False), ("::1", False), ("localhost", False)],
    )
    def test_only_loopback_addresses_skip_the_warning(
        self,
        served: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str],
        host: str,
        warns: bool,
    ) -> None:
        """A name starting with 127. is not loopback: only loopback addresses skip the warning."""
        assert main(["--url", "postgresql://localhost/x", "--host", host]) == 0
        assert ("WARNING" in capsys.readouterr().err) is warns
