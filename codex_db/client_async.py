"""The two clients: `AsyncDatabase` (autocommit, ``adb_http``) and `AsyncDatabaseWs` (``adb_ws``).

Both take their connections from one lazily opened psycopg-pool pool. Pass a
client, or the ``tx`` of a transaction block, as the first argument of a
generated query function: ``users.get_user(adb_http, id=...)`` runs in
autocommit mode, ``users.get_user(tx, id=...)`` inside the transaction.
"""

from __future__ import annotations

import asyncio
import atexit
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import partial
from types import TracebackType
from typing import Any, LiteralString, Self, TypeAlias, TypedDict, TypeVar, Unpack, overload

import msgspec
import psycopg
from msgspec import UNSET, UnsetType

from codex_db import _pool_async, _target, observe
from codex_db._batch_async import Plan, plan, run_pipelined
from codex_db._conn_async import AsyncConn
from codex_db._dbtx_base import ExecResult, Params
from codex_db._pending_async import report
from codex_db._pool_async import (
    AsyncConnection,
    AsyncEngine,
    AsyncPinnedEngine,
    AsyncPoolEngine,
    is_idle,
)
from codex_db._pool_base import logger
from codex_db._replicas_async import AsyncReplicas, is_read
from codex_db._statements_async import AsyncStatements
from codex_db.config import PoolOptions, Settings
from codex_db.errors import TransactionNotSupportedError
from codex_db.retry import RetryPolicy
from codex_db.transaction_async import (
    AsyncTransaction,
    IsolationLevel,
    TransactionOptions,
    open_block,
)

__all__ = [
    "AsyncDatabase",
    "AsyncDatabaseWs",
    "TransactionKwargs",
    "adb",
    "adb_http",
    "adb_ws",
    "close_adb_pool",
    "test_adb_connection",
]


T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")

#: One step of a `AsyncDatabase.batch`: a generated query function with its arguments bound.
Call: TypeAlias = Callable[[AsyncTransaction], Awaitable[T]]


class TransactionKwargs(TypedDict, total=False):
    """The options of ``transaction()``, ``run_transaction()`` and ``batch()``."""

    isolation_level: IsolationLevel | None
    read_only: bool | None
    deferrable: bool | None
    statement_timeout: float | None
    lock_timeout: float | None
    idle_in_transaction_session_timeout: float | None
    deadline: float | None


class AsyncDatabase(AsyncStatements):
    """The autocommit client: each call runs one statement on a pooled connection.

    Use it for one-off reads and writes that need no atomicity across
    statements (the reference README's ``dbHttp``), and `batch()` for a few
    statements that must apply together. Build one with `from_env()` or
    `from_url()` for a database of your own; ``codex_db.adb_http`` is the
    process-wide one. Nothing connects until the first call.

    Nothing is ever sent twice: a pooled connection whose server side is gone
    (terminated backend, restart) is found before use, without a round trip, and
    replaced; a connection lost after the statement was sent raises, since the
    statement may have run. Each call ends within its ``deadline``.
    """

    __slots__ = ("_engine", "_reads_on_primary")

    #: Whether generated reads may go to a read replica (`codex_db.DatabaseWs`: never).
    _ROUTES_READS = True

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        configure: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        engine: AsyncEngine | None = None,
        statement_timeout: float | None = None,
        deadline: float | UnsetType | None = UNSET,
        pool_options: PoolOptions | None = None,
    ) -> None:
        """A client of *settings* (default: from the environment, read on first use).

        *configure* runs on every new pooled connection, after codex-db's own
        set-up (msgspec JSON, generated enum types): register extra adapters
        there. *statement_timeout* (seconds) is the client-wide default; a
        transaction's own ``statement_timeout`` overrides it. *deadline*
        (seconds, None for none) bounds each call on the client side, whatever
        the network does (default `PoolOptions.deadline`, 60 s). *pool_options*
        tunes connection checks and lifetimes (`codex_db.PoolOptions`).
        """
        if engine is None:
            options = pool_options or PoolOptions()
            if statement_timeout is not None:
                options = msgspec.structs.replace(options, statement_timeout=statement_timeout)
            if deadline is not UNSET:
                options = msgspec.structs.replace(options, deadline=deadline)
            engine = AsyncPoolEngine(
                settings or Settings.from_env, configure, options, locate=_target.connect_url
            )
        self._engine = engine
        self._reads_on_primary = not self._ROUTES_READS

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        statement_timeout: float | None = None,
        deadline: float | UnsetType | None = UNSET,
        pool_options: PoolOptions | None = None,
        **options: Any,
    ) -> Self:
        """A client of the database at *url*; *options* as for `Settings.from_url()`."""
        settings = Settings.from_url(url, **options)
        return cls(
            settings,
            statement_timeout=statement_timeout,
            deadline=deadline,
            pool_options=pool_options,
        )

    @classmethod
    def from_env(cls) -> Self:
        """A client (with a pool of its own) configured from the environment variables."""
        return cls(Settings.from_env())

    def __repr__(self) -> str:
        return f"<codex_db.{type(self).__name__} {self._engine.describe()}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def settings(self) -> Settings | None:
        """The client's settings (``None`` for a client pinned to one connection in tests)."""
        engine = _unwrap(self._engine)
        return engine.settings if isinstance(engine, AsyncPoolEngine) else None

    def as_ws(self) -> AsyncDatabaseWs:
        """A transaction-mode client sharing this client's pool."""
        return AsyncDatabaseWs(engine=self._engine)

    @property
    def primary(self) -> AsyncDatabase:
        """This client with every read on the primary (read-your-writes), sharing its pool.

        Without read replicas (``DATABASE_URL_READ``) it is the same as the client.
        """
        client = AsyncDatabase(engine=self._engine)
        client._reads_on_primary = True
        return client

    def as_http(self) -> AsyncDatabase:
        """An autocommit client sharing this client's pool."""
        return AsyncDatabase(engine=self._engine)

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A pooled psycopg connection (autocommit) for what the API does not cover.

        Use it for server-side cursors or COPY TO; the connection goes back to
        the pool when the block ends. Behind a transaction pooler, leave no
        session state on it (``SET``, ``LISTEN``, advisory locks).
        """
        return self._engine.checkout()

    def transaction(
        self, **options: Unpack[TransactionKwargs]
    ) -> AbstractAsyncContextManager[AsyncTransaction]:
        """Not available in autocommit mode: raises `TransactionNotSupportedError`."""
        raise TransactionNotSupportedError(
            "transaction not supported: db_http (Database) runs each statement in autocommit"
            " mode; use db_ws.transaction() (DatabaseWs) for a transaction, or db_http.batch()"
        )

    @overload
    async def batch(
        self, c1: Call[T1], /, *, attempts: int = 1, **options: Unpack[TransactionKwargs]
    ) -> tuple[T1]: ...
    @overload
    async def batch(
        self,
        c1: Call[T1],
        c2: Call[T2],
        /,
        *,
        attempts: int = 1,
        **options: Unpack[TransactionKwargs],
    ) -> tuple[T1, T2]: ...
    @overload
    async def batch(
        self,
        c1: Call[T1],
        c2: Call[T2],
        c3: Call[T3],
        /,
        *,
        attempts: int = 1,
        **options: Unpack[TransactionKwargs],
    ) -> tuple[T1, T2, T3]: ...
    @overload
    async def batch(
        self,
        c1: Call[T1],
        c2: Call[T2],
        c3: Call[T3],
        c4: Call[T4],
        /,
        *,
        attempts: int = 1,
        **options: Unpack[TransactionKwargs],
    ) -> tuple[T1, T2, T3, T4]: ...
    @overload
    async def batch(
        self, *calls: Call[Any], attempts: int = 1, **options: Unpack[TransactionKwargs]
    ) -> tuple[Any, ...]: ...
    async def batch(
        self, *calls: Call[Any], attempts: int = 1, **options: Unpack[TransactionKwargs]
    ) -> tuple[Any, ...]:
        """Run *calls* in order, atomically, in one short transaction; return their results.

        The autocommit client's answer to Neon's ``sql.transaction([q1, q2])``:
        each call is a generated query function with its arguments bound
        (``functools.partial(users.get_user, id=...)``); it receives the
        transaction, the caller never does, so nothing interactive happens
        between the statements. If one fails, none is applied. *options* are
        the transaction's (``isolation_level``, ``read_only``, timeouts...);
        *attempts* > 1 re-runs the batch on a serialization failure or deadlock.
        """

        policy, settings = RetryPolicy(attempts=attempts), TransactionOptions(**options)
        async with observe.block(None, "batch"):
            planned = await plan(calls)
            if planned is None:
                return await self._run(partial(_in_order, calls), policy, settings)
            return await self._retrying(policy, partial(self._batch_once, calls, planned, settings))

    # DBTX: what generated query functions call. Each call checks out a pooled
    # connection and runs on its cached adapter (one RawCursor per connection).

    async def fetch_one(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> T | None:
        """The first row built with ``make(*cells)``, or ``None`` (`codex_db.dbtx.AsyncDBTX`)."""
        replicas = None if self._reads_on_primary else self._engine.replicas()
        if replicas is not None and is_read(query):  # no replicas: one attribute and one call
            done, row = await replicas.run(lambda db: db.fetch_one(query, params, make))
            if done:
                return row
        try:
            async with self._engine.checkout() as conn:
                return await AsyncConn.of(conn).fetch_one(query, params, make)
        except psycopg.Error as exc:
            if not self._engine.refused_prepared(exc):
                raise
        async with self._engine.checkout() as conn:  # it did not run: see refused_prepared
            return await AsyncConn.of(conn).fetch_one(query, params, make)

    async def fetch_all(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> list[T]:
        """Every row, built with ``make(*cells)`` (`codex_db.dbtx.AsyncDBTX`)."""
        replicas = None if self._reads_on_primary else self._engine.replicas()
        if replicas is not None and is_read(query):  # no replicas: one attribute and one call
            done, rows = await replicas.run(lambda db: db.fetch_all(query, params, make))
            if done and rows is not None:
                return rows
        try:
            async with self._engine.checkout() as conn:
                return await AsyncConn.of(conn).fetch_all(query, params, make)
        except psycopg.Error as exc:
            if not self._engine.refused_prepared(exc):
                raise
        async with self._engine.checkout() as conn:  # it did not run: see refused_prepared
            return await AsyncConn.of(conn).fetch_all(query, params, make)

    async def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> AsyncGenerator[T, None]:
        """Rows as they arrive; the connection stays checked out until the generator ends.

        Exhaust the generator or ``close()`` it: an abandoned one holds a pooled
        connection until it is garbage-collected.
        """
        async with self._engine.checkout() as conn:
            async for row in AsyncConn.of(conn).stream(query, params, make):
                yield row

    async def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected (`codex_db.dbtx.AsyncDBTX`)."""
        try:
            async with self._engine.checkout() as conn:
                return await AsyncConn.of(conn).execute(query, params)
        except psycopg.Error as exc:
            if not self._engine.refused_prepared(exc):
                raise
        async with self._engine.checkout() as conn:  # it did not run: see refused_prepared
            return await AsyncConn.of(conn).execute(query, params)

    async def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and command tag (`codex_db.dbtx.AsyncDBTX`)."""
        try:
            async with self._engine.checkout() as conn:
                return await AsyncConn.of(conn).execute_result(query, params)
        except psycopg.Error as exc:
            if not self._engine.refused_prepared(exc):
                raise
        async with self._engine.checkout() as conn:  # it did not run: see refused_prepared
            return await AsyncConn.of(conn).execute_result(query, params)

    async def copy_rows(
        self,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        *,
        types: Sequence[str] | None = None,
    ) -> int:
        """``COPY ... FROM STDIN`` the rows, dumped by *types* if given; return the number copied
        (`codex_db.dbtx.AsyncDBTX`).
        """
        async with self._engine.checkout() as conn:
            return await AsyncConn.of(conn).copy_rows(statement, rows, types=types)

    async def close(self) -> None:
        """Close the pool (shared with `as_ws()`/`as_http()` clients); the next call reopens it."""
        await self._engine.close()

    def _statement(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._engine.checkout()

    @asynccontextmanager
    async def _block(self, options: TransactionOptions) -> AsyncIterator[AsyncTransaction]:
        try:
            async with (
                self._engine.begin() as conn,
                observe.block(conn, "transaction"),
                open_block(conn, options, self._engine.local_settings()) as tx,
            ):
                yield tx
        except psycopg.Error as exc:
            # Not re-run (the block's own work may not be repeatable): later ones won't fail.
            self._engine.refused_prepared(exc)
            raise

    async def _batch_once(
        self, calls: Sequence[Call[Any]], planned: Plan, options: TransactionOptions
    ) -> tuple[Any, ...]:
        """One attempt of a planned batch: in one round trip on an idle connection."""
        defaults = dict(self._engine.local_settings())
        try:
            async with self._engine.begin() as conn, observe.block(conn, "transaction"):
                if is_idle(conn):
                    return await run_pipelined(conn, calls, planned, options, defaults)
                async with open_block(conn, options, defaults) as tx:  # a pinned test client
                    return await _in_order(calls, tx)
        except psycopg.Error as exc:
            self._engine.refused_prepared(exc)  # not re-run, as for a transaction block
            raise

    async def _run(
        self,
        work: Callable[[AsyncTransaction], Awaitable[T]],
        policy: RetryPolicy,
        options: TransactionOptions,
    ) -> T:
        return await self._retrying(policy, partial(self._in_block, work, options))

    async def _in_block(
        self, work: Callable[[AsyncTransaction], Awaitable[T]], options: TransactionOptions
    ) -> T:
        async with self._block(options) as tx:
            return await work(tx)

    async def _retrying(self, policy: RetryPolicy, once: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await once()
            except Exception as exc:
                if not policy.should_retry(exc, attempt):
                    raise
                logger.info("transaction attempt %d failed, retrying: %s", attempt, exc)
            if True:  # ASYNC
                await asyncio.sleep(policy.delay(attempt))
            else:
                time.sleep(policy.delay(attempt))
            attempt += 1


class AsyncDatabaseWs(AsyncDatabase):
    """The transaction-mode client (the reference README's ``dbWs``).

    ``with db_ws.transaction() as tx:`` commits when the block ends and rolls
    back when an exception leaves it; outside a block, calls behave like
    `AsyncDatabase`'s. Use it for multi-step work that must be atomic, and
    `run_transaction()` when a conflict should re-run the work.
    """

    __slots__ = ()

    _ROUTES_READS = False

    def transaction(
        self, **options: Unpack[TransactionKwargs]
    ) -> AbstractAsyncContextManager[AsyncTransaction]:
        """Open a transaction on a pooled connection and yield it as *tx*.

        Pass *tx* to generated query functions. ``isolation_level``,
        ``read_only`` and ``deferrable`` apply to the ``BEGIN``;
        ``statement_timeout``, ``lock_timeout`` and
        ``idle_in_transaction_session_timeout`` (seconds) are set with ``SET
        LOCAL``, so they end with the transaction. A block nested with
        ``tx.transaction()`` is a savepoint.
        """
        return self._block(TransactionOptions(**options))

    async def run_transaction(
        self,
        work: Callable[[AsyncTransaction], Awaitable[T]],
        *,
        attempts: int = 5,
        retry: RetryPolicy | None = None,
        **options: Unpack[TransactionKwargs],
    ) -> T:
        """Run ``work(tx)`` in a transaction; re-run it on a serialization failure or deadlock.

        Use it for transactions that can lose a conflict (``SERIALIZABLE``,
        ``REPEATABLE READ``, or row locks taken in different orders): the whole
        function runs again, up to *attempts* times, after a jittered backoff
        (or as *retry* says). *work* must be safe to repeat: keep side effects
        outside the database (emails, HTTP calls) out of it. The last error is
        raised when every attempt failed.
        """
        policy = retry or RetryPolicy(attempts=attempts)
        return await self._run(work, policy, TransactionOptions(**options))


async def _in_order(calls: Sequence[Call[Any]], tx: AsyncTransaction) -> tuple[Any, ...]:
    return tuple([await call(tx) for call in calls])


async def test_adb_connection(client: AsyncDatabase | None = None) -> bool:  # noqa: PT028
    """Return ``True`` when ``SELECT 1`` works on *client* (default: ``adb_http``).

    Use it at start-up or in a health check. It opens a new connection rather
    than waiting on the pool, so it fails fast and with the server's reason.
    When the database is behind the code (migrations pending: generated queries
    will fail with `PendingMigrationsError`), it logs a warning on the
    ``codex_db`` logger naming them and the fix, and still returns ``True``:
    the connection works.

    Raises:
        DatabaseConnectionError: with the redacted URL and the variable to check.
        ConfigError: when the environment variables are invalid.
    """
    engine = _unwrap((client or adb_http)._engine)
    if not isinstance(engine, AsyncPoolEngine):
        async with engine.checkout() as conn:
            await conn.execute("SELECT 1")
            await report(conn)
        return True
    if True:  # ASYNC
        url = await asyncio.to_thread(engine.url)
    else:
        url = engine.url()
    error = await _pool_async.probe(url, engine.settings, report_pending=True)
    if error is not None:
        raise error
    return True


test_adb_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


async def close_adb_pool() -> None:
    """Close the pool behind ``adb_http``/``adb_ws``/``adb``; they reopen it on their next call."""
    await _DEFAULT_ENGINE.close()


class _AsyncDefaultEngine:
    """The engine of the module-level clients; tests can point it elsewhere for a while."""

    def __init__(self) -> None:
        self.pool = AsyncPoolEngine(Settings.from_env, locate=_target.connect_url)
        self.override: AsyncEngine | None = None

    @property
    def settings(self) -> Settings:
        return self.pool.settings

    def _target(self) -> AsyncEngine:
        return self.override or self.pool

    def checkout(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._target().checkout()

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._target().begin()

    def local_settings(self) -> dict[str, str]:
        return dict(self._target().local_settings())

    async def close(self) -> None:
        await self.pool.close()

    def describe(self) -> str:
        return self._target().describe()

    def replicas(self) -> AsyncReplicas | None:
        return self._target().replicas()

    def refused_prepared(self, error: BaseException) -> bool:
        return self._target().refused_prepared(error)


def _unwrap(engine: AsyncEngine) -> AsyncEngine:
    return engine._target() if isinstance(engine, _AsyncDefaultEngine) else engine


@contextmanager
def _route_default_clients(engine: AsyncPinnedEngine) -> Iterator[None]:
    """Send ``adb_http``/``adb_ws``/``adb`` calls to *engine* (test isolation)."""
    previous, _DEFAULT_ENGINE.override = _DEFAULT_ENGINE.override, engine
    try:
        yield
    finally:
        _DEFAULT_ENGINE.override = previous


_DEFAULT_ENGINE = _AsyncDefaultEngine()

#: The autocommit client, configured from the environment on first use.
adb_http = AsyncDatabase(engine=_DEFAULT_ENGINE)
#: The transaction-mode client; shares ``adb_http``'s pool.
adb_ws = AsyncDatabaseWs(engine=_DEFAULT_ENGINE)
#: Alias of `adb_http`.
adb = adb_http

if True:  # ASYNC
    pass  # an event loop's pool must be closed in its loop: `await close_adb_pool()`
else:
    atexit.register(close_adb_pool)
