"""Every spelling of a password is redacted on every output path: reprs, JSON, CLI, studio.

The test servers trust local connections, so a password in the URL is ignored by
them and every command below really connects and runs.
"""

from __future__ import annotations

import copy
import http.client
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import msgspec
import pytest
from psycopg.conninfo import conninfo_to_dict

from codex_db import (
    Database,
    DatabaseConnectionError,
    Settings,
    _target,
    migrate,
    test_db_connection,
)
from codex_db._dsn import Secret, display, redact, scrub
from codex_db.cli import main
from codex_db.errors import MigrationError
from codex_db.testing import TestServer

# Raw "#", "?" and ":" are legal in a libpq URL's password; "/" and "@" are not.
SECRET = "Pa#ss?w0rd:Z9"
FORMS = (SECRET, quote(SECRET, safe=""), quote(SECRET))
SPELLINGS = ("url-raw", "url-quoted", "url-query", "url-sslpassword", "kv", "kv-sslpassword")


def spell(url: str, how: str) -> str:
    """The database at *url*, with SECRET given the way *how* names."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    host, port, db = params.get("host", ""), params.get("port", "5432"), params["dbname"]
    if host.startswith("/"):  # a unix socket: the host goes in the query
        base, join = f"postgresql://postgres@/{db}?host={quote(host, safe='')}&port={port}", "&"
    else:
        base, join = f"postgresql://postgres@{host}:{port}/{db}", "?"
    kv = f"host='{host}' port={port} user=postgres dbname={db}"
    return {
        "url-raw": base.replace("postgres@", f"postgres:{SECRET}@", 1),
        "url-quoted": base.replace("postgres@", f"postgres:{quote(SECRET, safe='')}@", 1),
        "url-query": f"{base}{join}password={quote(SECRET, safe='')}",
        "url-sslpassword": f"{base}{join}sslpassword={quote(SECRET, safe='')}",
        "kv": f"{kv} password='{SECRET}'",
        "kv-sslpassword": f"{kv} sslpassword='{SECRET}'",
    }[how]


def assert_clean(*texts: object) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in str(text), f"secret leaked in: {text}"


@pytest.fixture(scope="module")
def database(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A migrated database of the module's own (the CLI reads its migration state)."""
    name = pg_server.create_database(template=migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=SPELLINGS)
def secret_url(request: pytest.FixtureRequest, database: str) -> str:
    url = spell(database, request.param)
    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    assert SECRET in (params.get("password", "") + params.get("sslpassword", ""))
    return url


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_METHOD", "DATABASE_URL", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)


class TestRenderings:
    def test_display_and_redact(self, secret_url: str) -> None:
        """display() of the URL and redact() of text quoting it mask the secret."""
        assert_clean(display(secret_url), redact(secret_url), redact(f"error: {secret_url} x"))
        assert "***" in display(secret_url)

    def test_secret_type(self, secret_url: str) -> None:
        """A Secret shows its display form in every rendering, and reveals the real value."""
        secret = Secret.of(secret_url)
        assert_clean(
            repr(secret),
            str(secret),
            f"{secret}",
            f"{secret!r:>10}",
            msgspec.json.encode(secret),
            msgspec.structs.asdict(secret),
            msgspec.to_builtins(secret),
            [secret],
        )
        assert secret.reveal() == secret_url
        pickled = pickle.loads(pickle.dumps(secret))  # noqa: S301 - our own bytes
        for twin in (copy.copy(secret), copy.deepcopy(secret), pickled):
            assert twin == secret and twin.reveal() == secret_url

    def test_settings(self, secret_url: str) -> None:
        """Settings: repr, str, JSON, asdict, to_builtins and rich all mask the URL."""
        settings = Settings.from_url(secret_url)
        assert_clean(
            repr(settings),
            str(settings),
            f"{settings}",
            settings.display_url,
            msgspec.json.encode(settings),
            msgspec.structs.asdict(settings),
            msgspec.to_builtins(settings),
        )
        assert settings.conninfo is not None and SECRET in str(conninfo_to_dict(settings.conninfo))

    def test_settings_in_rich(self, secret_url: str) -> None:
        """rich.print(settings) shows the masked URL."""
        rich = pytest.importorskip("rich.console")
        console = rich.Console(record=True, width=200)
        console.print(Settings.from_url(secret_url))
        assert_clean(console.export_text())

    def test_target_and_client(self, secret_url: str) -> None:
        """The resolver's target and a client built on the URL show it masked."""
        target = _target.resolve(secret_url, environ={})
        assert_clean(target.display, repr(target), msgspec.json.encode(target))
        with Database.from_url(secret_url) as client:
            assert client.run("SELECT 1") is not None
            assert_clean(repr(client))


class TestErrors:
    def test_connection_errors(self, secret_url: str) -> None:
        """Failing to connect (a closed port) says so without the secret, in every layer."""
        closed = secret_url.replace(":5432", ":1").replace("port=5432", "port=1")
        params = conninfo_to_dict(secret_url)
        if str(params.get("host", "")).startswith("/"):
            closed = closed.replace(f"port={params.get('port')}", "port=1")
        with Database.from_url(closed) as client, pytest.raises(DatabaseConnectionError) as info:
            test_db_connection(client)
        assert_clean(str(info.value), repr(info.value))
        with pytest.raises(MigrationError) as error:
            migrate.status(closed)
        assert_clean(str(error.value))

    def test_scrub_unparseable(self) -> None:
        """A string libpq cannot parse still has its password scrubbed from messages."""
        bad = f"postgresql://app:{SECRET} x@host/db"
        assert_clean(scrub(f"invalid: {bad} and {SECRET} x", bad))


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    out = capsys.readouterr()
    assert code in (0, 3), out
    return out.out + out.err


class TestCommandLine:
    @pytest.mark.parametrize("command", ["doctor", "status", "migrate"])
    def test_commands_print_the_masked_url(
        self, command: str, secret_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """doctor, status and migrate with --url: the secret never reaches the terminal."""
        text = _cli([command, "--url", secret_url], capsys)
        assert "***" in text
        assert_clean(text)

    def test_error_output(self, secret_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """An error naming the database (a missing one) is masked too, traceback included."""
        missing = secret_url.replace("dbname=", "dbname=nope_").replace("/codex_test", "/nope")
        assert main(["--verbose", "status", "--url", missing]) == 1
        captured = capsys.readouterr()
        assert_clean(captured.out, captured.err)


def test_studio_start_line_and_page_header(database: str) -> None:
    """The studio's start line and its page header show the masked URL."""
    url = spell(database, "url-raw")
    env = {k: v for k, v in os.environ.items() if k not in ("DB_METHOD", "DATABASE_URL")}
    studio = subprocess.Popen(
        [sys.executable, "-m", "codex_db", "studio", "--url", url, "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert studio.stdout is not None
        lines = [studio.stdout.readline(), studio.stdout.readline()]
        assert_clean(*lines)
        assert "***" in lines[0], lines
        start = urlsplit(lines[1].split("open ", 1)[1].strip())
        # studio-<random>.localhost: browsers resolve it to loopback, the system resolver may not.
        conn = http.client.HTTPConnection("127.0.0.1", start.port, timeout=30)
        host = {"Host": start.netloc}
        conn.request("GET", f"{start.path}?{start.query}", headers=host)
        login = conn.getresponse()
        login.read()
        cookie = (login.getheader("set-cookie") or "").split(";")[0]
        conn.request("GET", "/", headers={**host, "Cookie": cookie})
        page = conn.getresponse().read().decode()
        conn.close()
        assert "***" in page
        assert_clean(page)
    finally:
        studio.terminate()
        studio.communicate(timeout=30)
