"""Engines: where the clients get their connections (a lazy pool, or one pinned connection)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from time import monotonic
from typing import Any, Protocol

import psycopg
from psycopg import pq
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from codex_db import dbtx
from codex_db._dsn import display, scrub
from codex_db._pending_async import report
from codex_db._pool_base import (
    RETURNED_AT,
    connect_kwargs,
    connection_hint,
    exhausted_message,
    local_timeouts,
    logger,
)
from codex_db._timestamptz import register_utc_timestamptz
from codex_db.config import PoolOptions, Settings
from codex_db.errors import ConfigError, DatabaseConnectionError, PoolExhaustedError

__all__ = [
    "PARK_SECONDS",
    "AsyncConnection",
    "AsyncEngine",
    "AsyncPinnedEngine",
    "AsyncPoolEngine",
    "PoolOptions",
    "configure_connection",
    "connection_hint",
    "is_idle",
    "probe",
]

#: A connection as the pool hands it out (autocommit, tuple rows by default).
AsyncConnection = psycopg.AsyncConnection[tuple[Any, ...]]

if True:  # ASYNC
    from codex_db._wait_async import async_connection_class

    def connection_class() -> type[AsyncConnection]:
        """The class of the pool's connections, decided when a pool opens: `KeepReaderConnection`
        (psycopg's, waiting with the loop's reader kept registered between round trips)
        on the psycopg versions it was verified on, unless ``CODEX_DB_ASYNC_WAIT=psycopg``;
        else psycopg's own (see `codex_db._wait_async`). The variable is read then, not on
        import: a bad value fails the first async call with one line naming it.
        """
        return async_connection_class()

else:

    def connection_class() -> type[AsyncConnection]:
        """The class of the pool's connections: psycopg's `Connection`."""
        return psycopg.Connection


class AsyncEngine(Protocol):
    """Where a client gets its connections."""

    def checkout(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for one autocommit statement."""
        ...

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection to run a transaction block on."""
        ...

    def local_settings(self) -> Mapping[str, str]:
        """Settings each transaction block sets with ``SET LOCAL`` (none on a direct connection)."""
        ...

    async def close(self) -> None:
        """Release every connection this engine opened."""
        ...

    def describe(self) -> str:
        """The redacted target, for reprs and messages."""
        ...


async def configure_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """Set up a new connection: msgspec for json/jsonb, the generated enum types, and
    timestamptz without `zoneinfo` when the server's time zone is UTC (`register_utc_timestamptz`).

    The enums are those of the generated modules imported so far (`dbtx.register_enums`);
    one the database does not have yet is skipped, so a client connects to a database
    behind the code, and the query that needs the type gets the server's error.
    """
    register_utc_timestamptz(conn)
    dbtx.configure(conn)
    await dbtx.load_enums_async(conn)


#: Longest time a connection stays out of the pool between uses (see `AsyncPoolEngine`).
PARK_SECONDS = 1.0

#: A parked connection: the connection, when it left the pool, and that pool.
_Parked = tuple[AsyncConnection, float, AsyncConnectionPool[AsyncConnection]]


class AsyncPoolEngine:
    """A psycopg-pool `AsyncConnectionPool` opened on first use; thread-safe.

    After `close()` the next use opens a new pool, so a closed client is
    usable again (e.g. after a fork, or in a new event loop).

    A call that finishes on a healthy idle connection *parks* it instead of
    returning it (up to ``min_size`` connections, the number the pool keeps
    open anyway), and the next call takes it back without the pool's
    bookkeeping (``getconn``/``putconn``: ~2 µs of client CPU per call, and the
    same backend stays warm). A connection goes back through the pool (its ``check``,
    ``max_lifetime``, ``drain()``) at most `PARK_SECONDS` after it left it, and
    whenever a caller is waiting for the pool; ``check_idle_after=0`` turns
    parking off.
    """

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        configure: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        options: PoolOptions | None = None,
        locate: Callable[[Settings], str] | None = None,
    ) -> None:
        """A pool of *settings* (or of what the callable returns, on first use).

        *locate* gives the URL for settings without one (the embedded server):
        the clients pass `codex_db._target.connect_url`, which starts it; the
        engine itself never starts servers or migrates.
        """
        self._source = settings
        self._locate = locate
        self._configure = configure
        self.options = options or PoolOptions()
        self._settings = settings if isinstance(settings, Settings) else None
        self._pool: AsyncConnectionPool[AsyncConnection] | None = None
        self._url: str | None = None
        self._lock = threading.Lock()
        self._parked: deque[_Parked] = deque()
        self._park_limit = 0
        self._park_for = _park_seconds(self.options)
        # One token per caller about to wait in the pool (list operations are atomic).
        self._queued: list[object] = []
        if True:  # ASYNC
            self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def settings(self) -> Settings:
        """The settings, resolved (from the environment, for the default clients) on first use."""
        settings = self._settings
        if settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = self._resolve()
                settings = self._settings
        return settings

    def url(self) -> str:
        """The URL connections go to (for the embedded server: what *locate* says)."""
        settings = self.settings
        with self._lock:
            if self._url is None:
                self._url = _url_of(settings, self._locate)
            return self._url

    @asynccontextmanager
    async def checkout(self) -> AsyncIterator[AsyncConnection]:
        pool = self._pool or await self._open()
        if True:  # ASYNC
            self._check_loop()
        conn, since = await self._unpark() or await self._lease(pool)
        try:
            yield conn
        finally:
            await self._release(conn, since, pool)

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.checkout()

    def local_settings(self) -> Mapping[str, str]:
        return local_timeouts(self.settings, self.options)

    async def close(self) -> None:
        """Close the pool; settings read from the environment are read again on next use."""
        with self._lock:
            pool, self._pool = self._pool, None
            parked = _take_all(self._parked)
            if not isinstance(self._source, Settings):
                self._settings = self._url = None
        if pool is None:
            return
        if True:  # ASYNC
            if self._loop is not asyncio.get_running_loop():
                logger.warning("dropping an async pool opened in another event loop")
                return
        for conn, _, owner in parked:
            await owner.putconn(conn)
        await pool.close()

    def describe(self) -> str:
        settings = self._settings
        if settings is None:
            return "from the environment (not resolved yet)"
        return display(self._url) if self._url else settings.display_url

    def stats(self) -> dict[str, int]:
        """The pool's counters (`psycopg_pool` ``get_stats()``), empty before it opens."""
        pool = self._pool
        return pool.get_stats() if pool is not None else {}

    async def _unpark(self) -> tuple[AsyncConnection, float] | None:
        """The most recently parked connection, if one is fresh enough; stale ones go back."""
        while True:
            try:
                conn, since, owner = self._parked.pop()
            except IndexError:
                return None
            if monotonic() - since < self._park_for and owner is self._pool:
                return conn, since
            await owner.putconn(conn)

    async def _lease(
        self, pool: AsyncConnectionPool[AsyncConnection]
    ) -> tuple[AsyncConnection, float]:
        """A connection from the pool (waiting for one if need be)."""
        token = object()
        self._queued.append(token)  # from now on, `_release` parks nothing
        try:
            # A connection parked before the token was seen is taken here.
            parked = await self._unpark()
            if parked is not None:
                return parked
            try:
                return await pool.getconn(), monotonic()
            except PoolTimeout as exc:
                raise await self._timeout_error(pool, exc) from None
        finally:
            self._queued.remove(token)

    async def _release(
        self, conn: AsyncConnection, since: float, pool: AsyncConnectionPool[AsyncConnection]
    ) -> None:
        """Park *conn* if it is idle, healthy and fresh, else return it to *pool*."""
        now = monotonic()
        setattr(conn, RETURNED_AT, now)
        parked = self._parked
        if (
            now - since < self._park_for
            and len(parked) < self._park_limit
            and conn.pgconn.transaction_status == _IDLE
            and pool is self._pool
        ):
            parked.append((conn, since, pool))
            if not self._queued and not self._oldest_is_due(now):
                return
            # A caller waits in the pool, or the oldest parked one is due: hand one back.
            try:
                conn, since, pool = parked.popleft()
            except IndexError:
                return
        await pool.putconn(conn)
        if conn.closed:
            # Lost (server restart, terminated backend): test the idle ones too.
            await pool.check()

    def _oldest_is_due(self, now: float) -> bool:
        try:
            return now - self._parked[0][1] >= self._park_for
        except IndexError:  # taken meanwhile by another thread
            return False

    def _resolve(self) -> Settings:
        source = self._source
        return source if isinstance(source, Settings) else source()

    async def _open(self) -> AsyncConnectionPool[AsyncConnection]:
        settings = self.settings
        if True:  # ASYNC
            url = await asyncio.to_thread(self.url)
        else:
            url = self.url()
        with self._lock:
            if self._pool is not None:
                return self._pool
            pool = _new_pool(url, settings, self._configure, self.options)
            self._park_limit = settings.min_size if self._park_for > 0 else 0
            if True:  # ASYNC
                self._loop = asyncio.get_running_loop()
            else:
                pool.open()
            self._pool = pool
        if True:  # ASYNC
            # No other task runs before this opens the pool: nothing awaits in between.
            await pool.open()
        return pool

    if True:  # ASYNC

        def _check_loop(self) -> None:
            if self._loop is not asyncio.get_running_loop():
                raise RuntimeError(
                    "this async client's pool was opened in another event loop: call"
                    " `await codex_db.close_adb_pool()` (or `await client.close()`) before that"
                    " loop ends, e.g. at the end of main() or in the app's lifespan"
                )

    async def _timeout_error(
        self, pool: AsyncConnectionPool[AsyncConnection], exc: PoolTimeout
    ) -> Exception:
        stats = pool.get_stats()
        if stats.get("connections_errors", 0) and self._url:
            # The pool has failed to connect: say why, if that is still the case.
            failure = await probe(self._url, self.settings)
            if failure is not None:
                return failure
        return PoolExhaustedError(exhausted_message(stats, pool.timeout, pool.max_size))


async def probe(
    url: str, settings: Settings, timeout: int = 5, *, report_pending: bool = False
) -> DatabaseConnectionError | None:
    """Try ``SELECT 1`` on a new connection to *url*; the error (redacted) if it fails.

    With *report_pending*, pending migrations are then logged as a warning (`report`).
    """
    try:
        async with await psycopg.AsyncConnection.connect(
            url, connect_timeout=timeout, **connect_kwargs(settings)
        ) as conn:
            await conn.execute("SELECT 1")
            if report_pending:
                await report(conn)
    except psycopg.Error as exc:
        detail = scrub(str(exc).strip(), url).replace("\n", " ")
        return DatabaseConnectionError(
            f"cannot connect to {display(url)}: {detail}; {connection_hint(settings)}"
        )
    return None


class AsyncPinnedEngine:
    """Every call runs on one connection, inside the transaction it is in.

    For tests: the connection sits in a transaction rolled back afterwards, so
    transaction blocks become savepoints, and each autocommit statement runs in
    a savepoint of its own, so a failed statement does not poison the next.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn
        if True:  # ASYNC
            # Tasks take turns for each statement's savepoint on the one connection
            # (``asyncio.gather`` in code under test, e.g. `apaginate`).
            self._turn = asyncio.Lock()
            self._holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def checkout(self) -> AsyncIterator[AsyncConnection]:
        async with self._taking_turns(), self.connection.transaction():
            yield self.connection

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        yield self.connection

    if True:  # ASYNC

        @asynccontextmanager
        async def _taking_turns(self) -> AsyncIterator[None]:
            task = asyncio.current_task()
            if task is not None and task is self._holder:
                yield
                return
            async with self._turn:
                self._holder = task
                try:
                    yield
                finally:
                    self._holder = None

    else:

        @contextmanager
        def _taking_turns(self) -> Iterator[None]:
            yield

    def local_settings(self) -> Mapping[str, str]:
        return {}

    async def close(self) -> None:
        """The connection belongs to whoever pinned it: nothing to do."""

    def describe(self) -> str:
        info = self.connection.info
        return f"pinned connection to {info.host}:{info.port}/{info.dbname}"


def _url_of(settings: Settings, locate: Callable[[Settings], str] | None) -> str:
    if settings.url is not None:
        return settings.url.reveal()
    if locate is None:
        raise ConfigError(f"{settings.display_url} has no URL and the engine no locate callable")
    return locate(settings)


def _take_all(parked: deque[_Parked]) -> list[_Parked]:
    """Empty *parked*; other threads may pop from it meanwhile (deque ops are atomic)."""
    taken: list[_Parked] = []
    while True:
        try:
            taken.append(parked.popleft())
        except IndexError:
            return taken


def _park_seconds(options: PoolOptions) -> float:
    """How long a connection may stay parked: `PARK_SECONDS`, less than ``check_idle_after``."""
    after = options.check_idle_after
    return PARK_SECONDS if after is None else min(PARK_SECONDS, after)


_IDLE = pq.TransactionStatus.IDLE


def _idle_check(after: float | None) -> Callable[[AsyncConnection], Awaitable[None]] | None:
    """The pool's ``check`` callback: test connections idle for *after* seconds or more."""
    if after is None:
        return None

    async def check(conn: AsyncConnection) -> None:
        if monotonic() - getattr(conn, RETURNED_AT, monotonic()) >= after:
            await AsyncConnectionPool.check_connection(conn)

    return check


def _new_pool(
    url: str,
    settings: Settings,
    extra: Callable[[AsyncConnection], Awaitable[None]] | None,
    options: PoolOptions,
) -> AsyncConnectionPool[AsyncConnection]:
    async def configure(conn: AsyncConnection) -> None:
        await configure_connection(conn)
        if extra is not None:
            await extra(conn)
            dbtx.reset(conn)

    logger.debug("opening connection pool on %s", display(url))
    return AsyncConnectionPool(
        url,
        connection_class=connection_class(),
        min_size=settings.min_size,
        max_size=settings.max_size,
        timeout=settings.pool_timeout,
        max_idle=options.max_idle,
        max_lifetime=options.max_lifetime,
        kwargs=connect_kwargs(settings, options),
        configure=configure,
        check=_idle_check(options.check_idle_after),
        name="codex-db",
        open=False,
    )


def is_idle(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether *conn* is outside any transaction (so a block on it is a real transaction)."""
    return conn.pgconn.transaction_status == _IDLE
