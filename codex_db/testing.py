"""pytest helpers for testing code against a real PostgreSQL.

Load them in a ``conftest.py`` with ``pytest_plugins = ["codex_db.testing"]``.
The server is the one in ``DATABASE_URL`` when it is set (the role needs
CREATEDB), otherwise a throwaway embedded PostgreSQL 18 started for the test
session. Every database a test creates is dropped after it.

Fixtures:

- ``pg_server``: the `TestServer` (session).
- ``fresh_database``: factory for a new empty database, optionally with SQL applied.
- ``migrated_template``: name of a database with every migration applied (session).
- ``migrated_database``: factory for a new database copied from that template, for
  tests that commit.
- ``migrated_url``: URL of one migrated database shared by the session.
- ``conn``: a connection to ``migrated_url`` inside a transaction rolled back after
  the test, so nothing a test writes is seen by the next.
- ``isolated_db``: a `codex_db.DatabaseWs` on one connection to ``migrated_url`` inside
  a transaction rolled back after the test; while it runs, ``codex_db.db_http``,
  ``db_ws`` and ``db`` use that connection too, so code under test needs no
  parameter. Its ``transaction()`` blocks become savepoints, and each autocommit
  call runs in a savepoint of its own (a failed statement does not abort the test's
  transaction).
- ``dbtx``: parametrised over both client modes: the autocommit client of
  ``isolated_db`` (``[autocommit]``) and a ``tx`` of ``isolated_db.transaction()``
  (``[transaction]``); pass it as the first argument of generated query functions.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from codex_db import migrate
from codex_db._dsn import redact, with_dbname
from codex_db._pool import PinnedEngine, configure_connection
from codex_db.client import Database, DatabaseWs, _route_default_clients
from codex_db.config import Settings
from codex_db.server import EmbeddedServer, start_embedded
from codex_db.transaction import Rollback, Transaction

__all__ = [
    "TestServer",
    "conn",
    "dbtx",
    "fresh_database",
    "isolated_db",
    "migrated_database",
    "migrated_template",
    "migrated_url",
    "pg_server",
]

_counter = itertools.count()


class TestServer:
    """A PostgreSQL server tests may create and drop databases on.

    Use `create_database()` / `drop_database()` directly when a fixture does
    not fit, e.g. in a session-scoped fixture of your own.
    """

    __test__ = False  # not a test class, despite the name

    def __init__(self, url: str, embedded: EmbeddedServer | None = None) -> None:
        self.url = url
        self.embedded = embedded

    def __repr__(self) -> str:
        kind = "embedded" if self.embedded else "DATABASE_URL"
        return f"<TestServer {kind} {redact(self.url)}>"

    def database_url(self, name: str) -> str:
        """The URL of database *name* on this server."""
        return with_dbname(self.url, name)

    def create_database(self, *, template: str | None = None, schema_sql: str | None = None) -> str:
        """Create a new database (copied from *template* if given) and return its name."""
        name = f"codex_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(query)
        if schema_sql:
            with psycopg.connect(self.database_url(name)) as conn:
                conn.execute(schema_sql.encode())
        return name

    def drop_database(self, name: str) -> None:
        """Drop database *name*, closing any connection still open on it."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(query)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    """The server of the test session: ``DATABASE_URL``, or a throwaway embedded one."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield TestServer(url)
        return
    embedded = start_embedded(temporary=True)
    try:
        yield TestServer(embedded.url, embedded)
    finally:
        embedded.stop()


@pytest.fixture
def fresh_database(pg_server: TestServer) -> Iterator[Callable[..., str]]:
    """Factory: ``fresh_database(schema_sql=None) -> url``; dropped after the test."""
    names: list[str] = []

    def make(schema_sql: str | None = None) -> str:
        names.append(pg_server.create_database(schema_sql=schema_sql))
        return pg_server.database_url(names[-1])

    yield make
    for name in names:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def migrated_template(pg_server: TestServer) -> Iterator[str]:
    """Name of a database with every migration applied; copy it, never connect to it."""
    name = pg_server.create_database()
    migrate.apply(pg_server.database_url(name))
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def migrated_database(pg_server: TestServer, migrated_template: str) -> Iterator[Callable[[], str]]:
    """Factory: ``migrated_database() -> url`` of a new migrated database, dropped after the test.

    Use it for tests that commit (autocommit clients, triggers across
    transactions, concurrency); it costs a ``CREATE DATABASE``.
    """
    names: list[str] = []

    def make() -> str:
        names.append(pg_server.create_database(template=migrated_template))
        return pg_server.database_url(names[-1])

    yield make
    for name in names:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def migrated_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """URL of one migrated database shared by the whole session (use it with rollbacks)."""
    name = pg_server.create_database(template=migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture
def conn(migrated_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection in a transaction on the shared migrated database, rolled back after the test."""
    with psycopg.connect(migrated_url) as connection:
        try:
            yield connection
        finally:
            connection.rollback()


@pytest.fixture
def isolated_db(migrated_url: str) -> Iterator[DatabaseWs]:
    """A `DatabaseWs` in a transaction rolled back after the test; the default clients follow it."""
    settings = Settings.from_url(migrated_url, pooler=os.environ.get("DATABASE_POOLER") or None)
    with (
        psycopg.connect(
            migrated_url, autocommit=True, prepare_threshold=settings.prepare_threshold
        ) as connection,
        connection.transaction(force_rollback=True),
    ):
        configure_connection(connection)
        engine = PinnedEngine(connection)
        with _route_default_clients(engine):
            yield DatabaseWs(engine=engine)


@pytest.fixture(params=["autocommit", "transaction"])
def dbtx(
    request: pytest.FixtureRequest, isolated_db: DatabaseWs
) -> Iterator[Database | Transaction]:
    """What generated functions take, in each client mode, rolled back after the test."""
    if request.param == "autocommit":
        yield isolated_db.as_http()
        return
    with isolated_db.transaction() as tx:
        yield tx
        raise Rollback(tx)  # also when the test left the savepoint failed on purpose


# --- Transaction poolers (PgBouncer) ------------------------------------------------------------

__all__ += ["POOLER_URL_VARIABLE", "pooled_database", "pooler_url", "pytest_configure"]

#: Environment variable with the base URL of a transaction-mode PgBouncer in front of the
#: ``DATABASE_URL`` server (e.g. ``postgresql://postgres@127.0.0.1:6432``); pooler tests skip
#: when it is unset.
POOLER_URL_VARIABLE = "CODEX_DB_TEST_POOLER_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of codex-db's test helpers."""
    config.addinivalue_line(
        "markers",
        f"pooler: runs through a transaction-mode PgBouncer (needs {POOLER_URL_VARIABLE})",
    )


@pytest.fixture(scope="session")
def pooler_url(pg_server: TestServer) -> str:
    """Base URL of the transaction-mode pooler in front of the test server; skips without one."""
    url = os.environ.get(POOLER_URL_VARIABLE)
    if not url:
        pytest.skip(
            f"no pooler: set {POOLER_URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1:6432,"
            " started with scripts/pgbouncer start) and DATABASE_URL to the server behind it"
        )
    if pg_server.embedded is not None:
        pytest.skip(
            f"{POOLER_URL_VARIABLE} is set but DATABASE_URL is not: test databases must be"
            " created on the server behind the pooler"
        )
    return url


@pytest.fixture
def pooled_database(
    pg_server: TestServer, migrated_template: str, pooler_url: str
) -> Iterator[Callable[[], str]]:
    """Factory: ``pooled_database() -> url`` of a new migrated database, reached through the pooler.

    The database is created (and dropped) over the direct URL, because PgBouncer
    cannot run ``CREATE DATABASE ... TEMPLATE`` (the template is "being accessed
    by other users"); only the returned URL goes through the pooler.
    """
    names: list[str] = []

    def make() -> str:
        names.append(pg_server.create_database(template=migrated_template))
        return with_dbname(pooler_url, names[-1])

    yield make
    for name in names:
        pg_server.drop_database(name)
