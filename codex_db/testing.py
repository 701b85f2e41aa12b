"""pytest helpers for testing code against a real PostgreSQL.

Load them in a ``conftest.py`` with ``pytest_plugins = ["codex_db.testing"]``.
The server is the one the environment names (``DATABASE_URL``, or the
variable of ``DB_METHOD``: `codex_db._target.resolve`; the role needs
CREATEDB), otherwise a throwaway embedded PostgreSQL 18 started for the test
session. A production target (``NODE_ENV``/``APP_ENV=production`` or
``DB_METHOD=PRODUCTION``) is refused: the suite creates and drops databases.
Every database a test creates is dropped after it.

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
- ``aisolated_db`` and ``adbtx``: the same for async code, as an `AsyncIsolation`
  to enter with ``async with`` inside the test's own event loop (``asyncio.run``,
  uvloop, pytest-asyncio or anyio alike): ``async with aisolated_db as db:`` gives
  an `codex_db.AsyncDatabaseWs` (and routes ``adb_http``/``adb_ws``/``adb`` to it),
  ``async with adbtx as db:`` the autocommit client or a transaction.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import psycopg
import pytest
from psycopg import sql

from codex_db import _target, migrate
from codex_db._dsn import display, with_dbname
from codex_db._pool import PinnedEngine, configure_connection
from codex_db._pool_async import AsyncPinnedEngine
from codex_db._pool_async import configure_connection as configure_async_connection
from codex_db.client import Database, DatabaseWs, _route_default_clients
from codex_db.client_async import AsyncDatabase, AsyncDatabaseWs
from codex_db.client_async import _route_default_clients as _route_default_async_clients
from codex_db.server import EmbeddedServer, start_embedded
from codex_db.transaction import Rollback, Transaction
from codex_db.transaction_async import AsyncTransaction

__all__ = [
    "AsyncIsolation",
    "TestServer",
    "adbtx",
    "aisolated_db",
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
        return f"<TestServer {kind} {display(self.url)}>"

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
    """The server of the test session: the configured one, or a throwaway embedded one."""
    target = _target.resolve()
    if target.production:
        raise pytest.UsageError(
            f"refusing to run tests against production ({target.display}): the suite creates"
            " and drops databases; unset NODE_ENV/APP_ENV=production and DB_METHOD=PRODUCTION"
        )
    if not target.embedded:
        yield TestServer(target.conninfo)
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
    settings = _target.resolve(migrated_url).settings  # DATABASE_POOLER applies
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


class AsyncIsolation:
    """An async client on one connection in a transaction rolled back at exit.

    Enter it with ``async with`` in the test's event loop; while it is entered the
    module-level ``adb_http``/``adb_ws``/``adb`` use that connection too. *mode*
    ``None`` yields the `AsyncDatabaseWs`; ``"autocommit"`` its autocommit client;
    ``"transaction"`` a transaction (a savepoint), as the ``dbtx`` fixture does.
    """

    def __init__(self, url: str, mode: str | None = None) -> None:
        self.url = url
        self.mode = mode
        self._stack: AsyncExitStack | None = None

    def __repr__(self) -> str:
        return f"<AsyncIsolation {self.mode or 'client'} {display(self.url)}>"

    async def __aenter__(self) -> Any:
        stack = self._stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            return await self._enter(stack)
        except BaseException:
            await stack.aclose()
            raise

    async def __aexit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def _enter(self, stack: AsyncExitStack) -> AsyncDatabaseWs | AsyncDatabase | Any:
        settings = _target.resolve(self.url).settings
        connection = await stack.enter_async_context(
            await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, prepare_threshold=settings.prepare_threshold
            )
        )
        await stack.enter_async_context(connection.transaction(force_rollback=True))
        await configure_async_connection(connection)
        engine = AsyncPinnedEngine(connection)
        stack.enter_context(_route_default_async_clients(engine))
        client = AsyncDatabaseWs(engine=engine)
        if self.mode == "autocommit":
            return client.as_http()
        if self.mode == "transaction":
            block = client.transaction()
            tx: AsyncTransaction = await block.__aenter__()
            # Leave it as `raise Rollback(tx)` would, also when the test left it failed.
            stack.push_async_callback(block.__aexit__, Rollback, Rollback(tx), None)
            return tx
        return client


@pytest.fixture
def aisolated_db(migrated_url: str) -> AsyncIsolation:
    """`AsyncIsolation` on the shared migrated database: ``async with aisolated_db as db``."""
    return AsyncIsolation(migrated_url)


@pytest.fixture(params=["autocommit", "transaction"])
def adbtx(request: pytest.FixtureRequest, migrated_url: str) -> AsyncIsolation:
    """What async generated functions take, in each client mode: ``async with adbtx as db``."""
    return AsyncIsolation(migrated_url, request.param)


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
