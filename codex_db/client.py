"""The two clients: `Database` (autocommit, ``db_http``) and `DatabaseWs` (transactions, ``db_ws``).

Both take their connections from one lazily opened psycopg-pool pool. Pass a
client, or the ``tx`` of a transaction block, as the first argument of a
generated query function: ``users.get_user(db_http, id=...)`` runs in
autocommit mode, ``users.get_user(tx, id=...)`` inside the transaction.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, LiteralString, Self, TypeVar

from codex_db import _pool
from codex_db._pool import Connection, Engine, PinnedEngine, PoolEngine
from codex_db._statements import Statements
from codex_db.config import Settings
from codex_db.dbtx import Conn, ExecResult, Params
from codex_db.errors import TransactionNotSupportedError
from codex_db.transaction import IsolationLevel, Transaction, TransactionOptions, open_block

__all__ = [
    "Database",
    "DatabaseWs",
    "close_db_pool",
    "db",
    "db_http",
    "db_ws",
    "test_db_connection",
]


T = TypeVar("T")


class Database(Statements):
    """The autocommit client: each call runs one statement on a pooled connection.

    Use it for one-off reads and writes that need no atomicity across
    statements (the reference README's ``dbHttp``). It has no transactions:
    use `DatabaseWs` for those. Build one with `from_env()` or `from_url()`
    for a database of your own; ``codex_db.db_http`` is the process-wide one.
    Nothing connects until the first call; the client is thread-safe.
    """

    __slots__ = ("_engine",)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        configure: Callable[[Connection], None] | None = None,
        engine: Engine | None = None,
    ) -> None:
        """A client of *settings* (default: from the environment, read on first use).

        *configure* runs on every new pooled connection, after codex-db's own
        set-up (msgspec JSON, generated enum types): register extra adapters there.
        """
        if engine is None:
            engine = PoolEngine(settings or Settings.from_env, configure)
        self._engine = engine

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """A client of the database at *url*; *options* as for `Settings.from_url()`."""
        return cls(Settings.from_url(url, **options))

    @classmethod
    def from_env(cls) -> Self:
        """A client (with a pool of its own) configured from the environment variables."""
        return cls(Settings.from_env())

    def __repr__(self) -> str:
        return f"<codex_db.{type(self).__name__} {self._engine.describe()}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def settings(self) -> Settings | None:
        """The client's settings (``None`` for a client pinned to one connection in tests)."""
        engine = _unwrap(self._engine)
        return engine.settings if isinstance(engine, PoolEngine) else None

    def as_ws(self) -> DatabaseWs:
        """A transaction-mode client sharing this client's pool."""
        return DatabaseWs(engine=self._engine)

    def as_http(self) -> Database:
        """An autocommit client sharing this client's pool."""
        return Database(engine=self._engine)

    def connection(self) -> AbstractContextManager[Connection]:
        """A pooled psycopg connection (autocommit) for what the API does not cover.

        Use it for COPY, server-side cursors or LISTEN; the connection goes back
        to the pool when the block ends.
        """
        return self._engine.checkout()

    def transaction(
        self,
        *,
        isolation_level: IsolationLevel | None = None,
        read_only: bool | None = None,
        deferrable: bool | None = None,
    ) -> AbstractContextManager[Transaction]:
        """Not available in autocommit mode: raises `TransactionNotSupportedError`."""
        raise TransactionNotSupportedError(
            "transaction not supported: db_http (Database) runs each statement in autocommit"
            " mode; use db_ws.transaction() (DatabaseWs) for a transaction"
        )

    # DBTX: what generated query functions call. Each call checks out a pooled
    # connection and runs on its cached adapter (one RawCursor per connection).

    def fetch_one(self, query: LiteralString, params: Params, make: Callable[..., T]) -> T | None:
        """The first row built with ``make(*cells)``, or ``None`` (`codex_db.dbtx.DBTX`)."""
        with self._engine.checkout() as conn:
            return Conn.of(conn).fetch_one(query, params, make)

    def fetch_all(self, query: LiteralString, params: Params, make: Callable[..., T]) -> list[T]:
        """Every row, built with ``make(*cells)`` (`codex_db.dbtx.DBTX`)."""
        with self._engine.checkout() as conn:
            return Conn.of(conn).fetch_all(query, params, make)

    def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> Generator[T, None, None]:
        """Rows as they arrive; the connection stays checked out until the generator ends.

        Exhaust the generator or ``close()`` it: an abandoned one holds a pooled
        connection until it is garbage-collected.
        """
        with self._engine.checkout() as conn:
            yield from Conn.of(conn).stream(query, params, make)

    def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected (`codex_db.dbtx.DBTX`)."""
        with self._engine.checkout() as conn:
            return Conn.of(conn).execute(query, params)

    def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and command tag (`codex_db.dbtx.DBTX`)."""
        with self._engine.checkout() as conn:
            return Conn.of(conn).execute_result(query, params)

    def copy_rows(self, statement: LiteralString, rows: Iterable[Sequence[Any]]) -> int:
        """``COPY ... FROM STDIN`` the rows; return how many were copied (`codex_db.dbtx.DBTX`)."""
        with self._engine.checkout() as conn:
            return Conn.of(conn).copy_rows(statement, rows)

    def close(self) -> None:
        """Close the pool (shared with `as_ws()`/`as_http()` clients); the next call reopens it."""
        self._engine.close()

    def _statement(self) -> AbstractContextManager[Connection]:
        return self._engine.checkout()


class DatabaseWs(Database):
    """The transaction-mode client (the reference README's ``dbWs``).

    ``with db_ws.transaction() as tx:`` commits when the block ends and rolls
    back when an exception leaves it; outside a block, calls behave like
    `Database`'s. Use it for multi-step work that must be atomic.
    """

    __slots__ = ()

    @contextmanager
    def transaction(
        self,
        *,
        isolation_level: IsolationLevel | None = None,
        read_only: bool | None = None,
        deferrable: bool | None = None,
    ) -> Iterator[Transaction]:
        """Open a transaction on a pooled connection and yield it as *tx*.

        Pass *tx* to generated query functions. The options apply to the
        ``BEGIN``; a block nested with ``tx.transaction()`` is a savepoint.
        """
        options = TransactionOptions(isolation_level, read_only, deferrable)
        with self._engine.begin() as conn, open_block(conn, options) as tx:
            yield tx


def test_db_connection(client: Database | None = None) -> bool:  # noqa: PT028 - not a test
    """Return ``True`` when ``SELECT 1`` works on *client* (default: ``db_http``).

    Use it at start-up or in a health check. It opens a new connection rather
    than waiting on the pool, so it fails fast and with the server's reason.

    Raises:
        DatabaseConnectionError: with the redacted URL and the variable to check.
        ConfigError: when the environment variables are invalid.
    """
    engine = _unwrap((client or db_http)._engine)
    if not isinstance(engine, PoolEngine):
        with engine.checkout() as conn:
            conn.execute("SELECT 1")
        return True
    error = _pool.probe(engine.url(), engine.settings)
    if error is not None:
        raise error
    return True


test_db_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def close_db_pool() -> None:
    """Close the pool behind ``db_http``/``db_ws``/``db``; they reopen it on their next call."""
    _DEFAULT_ENGINE.close()


class _DefaultEngine:
    """The engine of the module-level clients; tests can point it elsewhere for a while."""

    def __init__(self) -> None:
        self.pool = PoolEngine(Settings.from_env)
        self.override: Engine | None = None

    @property
    def settings(self) -> Settings:
        return self.pool.settings

    def _target(self) -> Engine:
        return self.override or self.pool

    def checkout(self) -> AbstractContextManager[Connection]:
        return self._target().checkout()

    def begin(self) -> AbstractContextManager[Connection]:
        return self._target().begin()

    def close(self) -> None:
        self.pool.close()

    def describe(self) -> str:
        return self._target().describe()


def _unwrap(engine: Engine) -> Engine:
    return engine._target() if isinstance(engine, _DefaultEngine) else engine


@contextmanager
def _route_default_clients(engine: PinnedEngine) -> Iterator[None]:
    """Send ``db_http``/``db_ws``/``db`` calls to *engine* (test isolation)."""
    previous, _DEFAULT_ENGINE.override = _DEFAULT_ENGINE.override, engine
    try:
        yield
    finally:
        _DEFAULT_ENGINE.override = previous


_DEFAULT_ENGINE = _DefaultEngine()

#: The autocommit client, configured from the environment on first use.
db_http = Database(engine=_DEFAULT_ENGINE)
#: The transaction-mode client; shares ``db_http``'s pool.
db_ws = DatabaseWs(engine=_DEFAULT_ENGINE)
#: Alias of `db_http`.
db = db_http

atexit.register(close_db_pool)
