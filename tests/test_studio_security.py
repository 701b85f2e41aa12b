"""codex-db studio's security rules over HTTP, each an attack that used to work (issue 19).

The console's escapes (``RESET ROLE``, ``SET ROLE``, ``RESET
transaction_read_only``, ``set_config``, ``dblink``) are tried on the real
server: run this module on PostgreSQL 15 (``DATABASE_URL``) and 18 (embedded).
"""

from __future__ import annotations

import email.message
import secrets
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

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


def untouched(sql: Callable[..., list[tuple[Any, ...]]]) -> None:
    """Neither the sequence nor table x carry the mark of an escaped console statement."""
    assert sql("SELECT last_value, is_called FROM s") == [(1, False)]
    assert sql("SELECT count(*) FROM x") == [(0,)]


def escapes(user: str, db_url: str) -> list[str]:
    """Statements that try to leave the console's role or its READ ONLY transaction."""
    found = [
        f"DO $$ BEGIN RESET transaction_read_only; PERFORM setval('s', {MARK}); END $$",
        f"DO $$ BEGIN RESET transaction_read_only; INSERT INTO x VALUES ({MARK}); END $$",
        f"DO $$ BEGIN RESET ROLE; RESET transaction_read_only; PERFORM setval('s', {MARK}); END $$",
        f'DO $$ BEGIN SET ROLE "{user}"; RESET transaction_read_only;'
        f" INSERT INTO x VALUES ({MARK}); END $$",
        f"SELECT set_config('role', '{user}', false), setval('s', {MARK})",
        "DO $$ BEGIN PERFORM set_config('transaction_read_only', 'off', true);"
        f" PERFORM setval('s', {MARK}); END $$",
        f'SET SESSION AUTHORIZATION "{user}"',
        "SELECT nextval('s')",
    ]
    target = make_conninfo(db_url).replace("'", "''")
    found.append(f"SELECT dblink_exec('{target}', 'INSERT INTO x VALUES ({MARK})')")
    return found


class TestConsoleRole:
    def test_runs_as_a_reader_role_of_this_run(self, client: Client, studio: StudioServer) -> None:
        """The console's session user is the run's reader, not the studio's user."""
        reply = client.post("/sql", [("q", "SELECT session_user, current_user")])
        role = studio.ctx.console.role
        assert reply.status == 200 and role.startswith("codex_studio_console_")
        assert reply.body.count(f"<td>{role}</td>") == 2
        assert "can read everything and change nothing" in reply.body

    def test_reader_password_is_never_shown(self, client: Client, studio: StudioServer) -> None:
        """The reader's password is in no page, error or repr."""
        password = str(conninfo_to_dict(studio.ctx.console.conninfo)["password"])
        assert len(password) > 20 and password not in repr(studio.ctx)
        for query in ("SELECT 1", "SELECT * FROM nowhere", "SELECT pg_sleep(5)"):
            assert password not in client.post("/sql", [("q", query)]).body

    def test_reads_everything(self, client: Client) -> None:
        """pg_read_all_data: every table reads as for the owner."""
        reply = client.post("/sql", [("q", "SELECT count(*) AS n FROM content")])
        assert reply.status == 200 and "<td>120</td>" in reply.body

    @pytest.mark.parametrize("index", range(9))
    def test_escapes_change_nothing(
        self, client: Client, sql: Any, db_url: str, index: int
    ) -> None:
        """RESET ROLE, SET ROLE, RESET transaction_read_only, set_config, dblink: all refused."""
        user = sql("SELECT current_user")[0][0]
        query = escapes(user, db_url)[index]
        if "dblink" in query and not sql("SELECT 1 FROM pg_extension WHERE extname = 'dblink'"):
            pytest.skip("this server has no dblink")
        reply = client.post("/sql", [("q", query)])
        assert reply.status == 400, reply.body
        untouched(sql)

    def test_prepare_transaction_is_refused(self, client: Client) -> None:
        """A prepared transaction would keep the console's locks after the request."""
        for query in ("PREPARE TRANSACTION 'held'", "/* /* */ x */ prepare  transaction 'held'"):
            reply = client.post("/sql", [("q", query)])
            assert reply.status == 400 and "PREPARE TRANSACTION would keep" in reply.body

    def test_lock_timeout(self, client: Client, db_url: str) -> None:
        """A statement waiting for a lock gives up after lock_timeout, not statement_timeout."""
        with psycopg.connect(db_url) as holder:
            holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            reply = client.post("/sql", [("q", "SELECT count(*) FROM users")])
            elapsed = time.monotonic() - started
        assert reply.status == 400 and "lock timeout" in reply.body
        assert elapsed < 1.8  # lock_timeout 1 s, console_timeout 2 s

    def test_role_is_dropped_when_the_studio_stops(self, db_url: str, sql: Any) -> None:
        """The reader role lives as long as the studio."""
        with running(db_url) as server:
            role = server.ctx.console.role
            assert sql("SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == [(1,)]
        assert sql("SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == [(0,)]


@pytest.fixture
def app_url(db_url: str, sql: Any) -> Iterator[str]:
    """The seeded database as a login role that is not a superuser and cannot read all data."""
    name = f"studio_app_{secrets.token_hex(4)}"
    sql(f"CREATE ROLE {name} LOGIN")
    sql(f"GRANT SELECT, INSERT ON x, users TO {name}")
    sql(f"GRANT USAGE, UPDATE, SELECT ON SEQUENCE s TO {name}")
    yield make_conninfo(db_url, user=name)
    sql(f"DROP OWNED BY {name}")
    sql(f"DROP ROLE {name}")


class TestPlainReads:
    def test_user_without_read_all_gets_plain_reads(self, app_url: str, sql: Any) -> None:
        """No reader role can be had: plain reads as the user, every escape refused."""
        user = app_url.split("user=")[1].split()[0]
        with running(app_url) as server:
            client = Client(server).login()
            reply = client.post("/sql", [("q", "SELECT count(*) FROM users")])
            assert reply.status == 200 and "<td>3</td>" in reply.body
            assert "plain reads only" in reply.body
            for query in escapes(user, app_url):
                reply = client.post("/sql", [("q", query)])
                assert reply.status == 400, query
            reply = client.post("/sql", [("q", "/* x */ (SELECT set_config('a.b', '1', false))")])
            assert reply.status == 400 and "set_config() acts outside" in reply.body
            hidden = [
                "/* /* */ SELECT */ DO $$ BEGIN RESET transaction_read_only;"
                f" PERFORM setval('s', {MARK}); END $$",  # block comments nest
                "SELECT U&\"\\0073et_config\"('a.b', '1', false)",
            ]
            for query in hidden:
                assert client.post("/sql", [("q", query)]).status == 400, query
        untouched(sql)

    def test_superuser_without_reader_role_has_no_console(
        self, fresh_database: Callable[..., str], pg_server: TestServer
    ) -> None:
        """A superuser whose reader cannot log in gets no console unless asked for it."""
        url = fresh_database()
        with psycopg.connect(url, autocommit=True) as conn:
            name = conn.execute("SELECT current_database()").fetchone()
            assert name is not None
            conn.execute(f'REVOKE CONNECT ON DATABASE "{name[0]}" FROM PUBLIC')
        with running(url) as server:
            reply = Client(server).login().post("/sql", [("q", "SELECT 1")])
            assert reply.status == 400
            assert "the SQL console is off" in reply.body and "--console-as-superuser" in reply.body
        with running(url, console_superuser=True) as server:
            client = Client(server).login()
            assert client.post("/sql", [("q", "SELECT 1")]).status == 200
            assert client.post("/sql", [("q", "DO $$ BEGIN END $$")]).status == 400


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

    def test_wildcard_address_takes_addresses_not_names(self, db_url: str) -> None:
        """On 0.0.0.0 any IP address with the port is the studio; a name is still refused."""
        with running(db_url, host="0.0.0.0") as server:  # noqa: S104
            client = Client(server).login()
            port = server.server_address[1]
            for host in (f"127.0.0.1:{port}", f"10.1.2.3:{port}", f"[::1]:{port}"):
                assert client.request("GET", "/", headers={"Host": host}).status == 200, host
            for host in (f"evil.example:{port}", "127.0.0.1:1"):
                assert client.request("GET", "/", headers={"Host": host}).status == 421, host

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

    def test_slow_page_is_stopped(
        self, fresh_database: Callable[..., str], pg_server: TestServer
    ) -> None:
        """A view slower than page_timeout answers 504 quickly, naming the limit."""
        url = fresh_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE VIEW slow AS SELECT pg_sleep(3)::text AS v")
        with running(url, page_timeout=0.5) as server:
            client = Client(server).login()
            started = time.monotonic()
            reply = client.get("/t/slow")
            assert reply.status == 504 and "may run 0.5 s" in reply.body
            assert time.monotonic() - started < 2.5
            assert client.get("/").status == 200  # the list falls back to estimates

    def test_page_waits_for_a_lock_only_lock_timeout(self, client: Client, db_url: str) -> None:
        """A page blocked by another session's lock gives up after lock_timeout."""
        with psycopg.connect(db_url) as holder:
            holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            reply = client.get("/t/users")
            elapsed = time.monotonic() - started
        assert reply.status == 504 and "lock timeout" in reply.body
        assert elapsed < 4


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
        """A name starting with 127. is not loopback; --console-as-superuser reaches serve()."""
        argv = ["--url", "postgresql://localhost/x", "--host", host, "--console-as-superuser"]
        assert main(argv) == 0
        assert ("WARNING" in capsys.readouterr().err) is warns
        assert served[0]["console_superuser"] is True
