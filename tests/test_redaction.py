"""A known password never appears in logs, reprs, str() or error messages."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import codex_db
from codex_db import ConfigError, Database, DatabaseConnectionError, DatabaseWs, Settings
from codex_db._dsn import to_url
from codex_db.dbtx import scalar

PASSWORD = "hunter2-S3cret/word"
FORMS = (PASSWORD, quote(PASSWORD, safe=""))


def with_password(url: str) -> str:
    """*url* with the known password (the test servers trust local connections)."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    params["password"] = PASSWORD
    return to_url(" ".join(f"{k}='{v}'" for k, v in params.items()))


def assert_clean(*texts: object) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in str(text), f"password leaked in: {text}"


def describe(error: BaseException) -> str:
    """Everything a log handler would print for *error*: message, chain, traceback."""
    return "".join(traceback.format_exception(error)) + repr(error)


@pytest.fixture(autouse=True)
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record at DEBUG and check none carries the password."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert_clean(caplog.text, *(record.getMessage() for record in caplog.records))


@pytest.fixture
def secret_url(migrated_database: Callable[[], str]) -> str:
    return with_password(migrated_database())


def test_settings_repr_and_str(secret_url: str) -> None:
    """Settings show the URL with *** for the password."""
    settings = Settings.from_url(secret_url)
    assert_clean(repr(settings), str(settings), settings.display_url)
    assert ":***@" in repr(settings)
    # The real value is still there to connect with.
    assert conninfo_to_dict(settings.conninfo or "")["password"] == PASSWORD


@pytest.mark.parametrize("method", ["NEON_BRANCH", "PRODUCTION", "LOCAL_PROXY"])
def test_settings_from_env_repr(method: str) -> None:
    """Settings built from each method's variables redact the password."""
    url = f"postgresql://app:{quote(PASSWORD, safe='')}@ep-x.neon.tech/codex"
    env = {"DB_METHOD": method, "DATABASE_URL": url, "DATABASE_URL_LOCAL_PROXY": url}
    assert_clean(repr(Settings.from_env(env)))


def test_clients_transactions_and_connections(secret_url: str) -> None:
    """Reprs of clients, transactions and pooled connections, before and after use."""
    client = DatabaseWs.from_url(secret_url)
    with client:
        assert_clean(repr(client), repr(client.as_http()), repr(client.settings))
        assert client.fetch_one("SELECT 1", (), scalar) == 1
        with client.transaction() as tx, tx.transaction() as sp:
            assert_clean(repr(tx), repr(sp), repr(tx.connection), tx.connection.info.dsn)
        with client.connection() as conn:
            assert_clean(repr(conn), str(conn))
        assert_clean(repr(client))


def test_database_errors_raised_through_the_client(secret_url: str) -> None:
    """A SQL error out of a client says nothing of the URL."""
    with Database.from_url(secret_url) as client, pytest.raises(psycopg.Error) as info:
        client.run("SELECT * FROM no_such_table")
    assert_clean(describe(info.value))


def test_connection_test_failure() -> None:
    """test_db_connection() on an unreachable server: redacted URL in the message and chain."""
    url = f"postgresql://app:{quote(PASSWORD, safe='')}@127.0.0.1:1/codex"
    with Database.from_url(url) as client, pytest.raises(DatabaseConnectionError) as info:
        codex_db.test_db_connection(client)
    assert "app:***@127.0.0.1:1" in str(info.value)
    assert_clean(describe(info.value))


def test_pool_connection_failure() -> None:
    """A pool that cannot connect logs and raises without the password."""
    url = f"postgresql://app:{quote(PASSWORD, safe='')}@127.0.0.1:1/codex"
    with (
        Database.from_url(url, pool_timeout=0.3) as client,
        pytest.raises(psycopg.OperationalError) as info,
    ):
        client.fetch_one("SELECT 1", (), scalar)
    assert_clean(describe(info.value), repr(client))


@pytest.mark.parametrize(
    ("url", "method"),
    [
        (f"postgresql://app:{PASSWORD.replace('/', ' ')}@host/db", "URL"),
        (f"postgresql://app:{quote(PASSWORD, safe='')}@host/db?sslmode=disable", "PRODUCTION"),
        (f"postgresql://app:{quote(PASSWORD, safe='')}@host/db?nonsense=1", "URL"),
        (f"host=h password='{PASSWORD}' bogus", "URL"),
    ],
    ids=["space-in-password", "weak-tls", "bad-parameter", "bad-key-value"],
)
def test_config_errors(url: str, method: str) -> None:
    """Invalid URLs and refused TLS modes are reported without the password."""
    with pytest.raises(ConfigError) as info:
        Settings.from_url(url, method=method)
    assert_clean(describe(info.value), PASSWORD.replace("/", " "))
    assert PASSWORD.replace("/", " ") not in describe(info.value)
