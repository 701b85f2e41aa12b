"""Engines: where the clients get their connections (a lazy pool, or one pinned connection)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from time import monotonic
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg import pq
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from codex_db import dbtx
from codex_db._deadline import DEADLINE, stamp
from codex_db._dsn import display, scrub
from codex_db._pending_async import report
from codex_db._pool_base import (
    POOL_NAME,
    RETURNED_AT,
    connect_kwargs,
    connection_hint,
    exhausted_message,
    is_dead,
    is_prepared_refusal,
    local_timeouts,
    logger,
    permanent_fix,
    quiet_repeats,
)
from codex_db._timestamptz import register_utc_timestamptz
from codex_db.config import Pooler, PoolOptions, Settings
from codex_db.errors import ConfigError, DatabaseConnectionError, PoolExhaustedError

if TYPE_CHECKING:
    from codex_db._replicas_async import AsyncReplicas

__all__ = [
    "PARK_SECONDS",
    "RECONNECT_DELAYS",
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
        """The class of the pool's connections: `DeadlineConnection` (psycopg's, bounded
        by the deadline of the call it serves)."""
        from codex_db._deadline import DeadlineConnection

        return DeadlineConnection


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

    def refused_prepared(self, error: BaseException) -> bool:
        """Whether *error* is a pooler refusing prepared statements; if so, stop preparing."""
        ...

    def replicas(self) -> AsyncReplicas | None:
        """The read replicas (`codex_db._replicas_async.AsyncReplicas`), or None."""
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

#: Longest wait between reconnect attempts (psycopg-pool doubles it from 1 s up to
#: minutes): with callers waiting, and without. A restarted server is used within
#: the first of these of accepting again.
RECONNECT_DELAYS = (0.25, 2.0)

#: How long a waiting caller sleeps in the pool at a time while connecting fails,
#: to notice a permanent error (which no reconnect attempt fixes) at once.
_SLICE = 0.1

#: Bound on the round trips the pool does itself (set-up of a new connection, the
#: idle check): a silent server must not hold a pool worker or a caller forever.
_HOUSEKEEPING_SECONDS = 10.0


class _Health:
    """What the pool's connection attempts found (updated by `_recording` connections)."""

    __slots__ = ("connecting", "error", "healthy")

    def __init__(self) -> None:
        self.connecting = 0
        self.error: psycopg.Error | None = None
        #: None before the first attempt ends; then whether the latest succeeded.
        self.healthy: bool | None = None

    def permanent(self) -> str | None:
        """The fix, when the latest attempt failed in a way waiting cannot mend."""
        error = self.error
        return permanent_fix(error) if error is not None and self.healthy is False else None


def _recording(base: type[AsyncConnection], health: _Health) -> type[AsyncConnection]:
    """*base* with a ``connect()`` that tells *health* how each attempt went."""
    parent: Any = base

    class Recording(parent):  # type: ignore[misc]
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            health.connecting += 1
            try:
                conn = await super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                health.error, health.healthy = exc, False
                raise
            finally:
                health.connecting -= 1
            health.healthy = True
            return conn

    Recording.__name__ = Recording.__qualname__ = base.__name__
    Recording.__module__ = base.__module__
    return Recording


class _Pool(AsyncConnectionPool[AsyncConnection]):
    """psycopg-pool's pool, reconnecting at most `RECONNECT_DELAYS` apart."""

    codex_queued: list[object]

    async def schedule_task(self, task: Any, delay: float) -> None:
        if type(task).__name__ == "AddConnection":
            waiting, idle = RECONNECT_DELAYS
            delay = min(delay, waiting if self.codex_queued else idle)
        await super().schedule_task(task, delay)


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
        self._health = _Health()
        self._unprepared = False
        self._replicas: AsyncReplicas | None = _UNRESOLVED
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
        while is_dead(conn):
            # Its server side is gone (terminated, restarted): nothing was sent on it.
            await self._discard(conn, pool)
            conn, since = await self._unpark() or await self._lease(pool)
        stamp(conn, self.options.deadline)
        if self._unprepared and conn.prepare_threshold is not None:
            conn.prepare_threshold = None
        try:
            yield conn
        finally:
            setattr(conn, DEADLINE, None)
            await self._release(conn, since, pool)

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.checkout()

    def local_settings(self) -> Mapping[str, str]:
        return local_timeouts(self.settings, self.options)

    async def close(self) -> None:
        """Close the pool; settings read from the environment are read again on next use."""
        replicas = self._replicas
        with self._lock:
            pool, self._pool = self._pool, None
            parked = _take_all(self._parked)
            self._replicas = _UNRESOLVED
            if not isinstance(self._source, Settings):
                self._settings = self._url = None
        if replicas not in (None, _UNRESOLVED):
            await replicas.close()
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

    def replicas(self) -> AsyncReplicas | None:
        """The read replicas of the settings (``read_urls``), each with a pool of its own,
        made on first use; None when there are none."""
        replicas = self._replicas
        if replicas is _UNRESOLVED:
            settings = self.settings
            replicas = None
            if settings.read_urls:
                from codex_db._replicas_async import AsyncReplicas

                replicas = AsyncReplicas(settings, self._configure, self.options)
            self._replicas = replicas
        return replicas

    def refused_prepared(self, error: BaseException) -> bool:
        """Whether *error* shows the pooler refusing prepared statements (``DATABASE_POOLER=
        transaction`` on a pooler without support). If so, this pool stops preparing, with
        one warning naming the setting; the failed statement did not run (it failed at
        Parse or Bind), so an autocommit call may run it again."""
        if self.settings.pooler is not Pooler.TRANSACTION or not is_prepared_refusal(error):
            return False
        with self._lock:  # one warning, whichever thread sees the refusal first
            first, self._unprepared = not self._unprepared, True
        if first:
            pool = self._pool
            if pool is not None and isinstance(pool.kwargs, dict):
                pool.kwargs["prepare_threshold"] = None
            logger.warning(
                "the pooler at %s refused a prepared statement (%s): this client no longer"
                " prepares statements. Set DATABASE_POOLER=transaction-unprepared (or"
                " pooler='transaction-unprepared') for a pooler without prepared-statement"
                " support, e.g. PgBouncer before 1.21 or with max_prepared_statements = 0",
                self.describe(),
                str(error).strip().splitlines()[0],
            )
        return True

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
            return await self._getconn(pool), monotonic()
        finally:
            self._queued.remove(token)

    async def _getconn(self, pool: AsyncConnectionPool[AsyncConnection]) -> AsyncConnection:
        """Wait up to the pool timeout; while connecting fails, in slices, so a permanent
        error (bad password, unknown database...) is raised within `_SLICE`."""
        end = monotonic() + pool.timeout
        health = self._health
        while True:
            fix = health.permanent()
            if fix is not None:
                raise await self._cannot_connect(pool, fix)
            left = end - monotonic()
            try:
                return await pool.getconn(timeout=left if health.healthy else min(left, _SLICE))
            except PoolTimeout:
                if monotonic() >= end:
                    raise self._timeout_error(pool) from None

    async def _discard(
        self, conn: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
    ) -> None:
        """Close dead *conn* and give it back: the pool opens a replacement."""
        logger.info("pooled connection found dead before use, replacing it")
        await conn.close()
        await pool.putconn(conn)

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
            pool = _new_pool(url, settings, self._configure, self.options, self._health)
            pool.codex_queued = self._queued
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

    def _timeout_error(self, pool: AsyncConnectionPool[AsyncConnection]) -> Exception:
        """What the pool timeout means: connecting fails (say why), or every connection is busy."""
        health = self._health
        target = display(self._url) if self._url else self.settings.display_url
        if health.healthy is False and health.error is not None:
            return DatabaseConnectionError(
                f"cannot connect to {target} (tried for {pool.timeout:.2f} s):"
                f" {self._detail(health.error)}; {connection_hint(self.settings)}"
            )
        stats = pool.get_stats()
        connecting = health.connecting
        checked_out = stats.get("pool_size", 0) - stats.get("pool_available", 0) - connecting
        return PoolExhaustedError(
            exhausted_message(
                target,
                pool.timeout,
                pool.max_size,
                in_use=max(checked_out, 0),
                connecting=connecting,
                waiting=max(len(self._queued) - 1, 0),
            )
        )

    async def _cannot_connect(
        self, pool: AsyncConnectionPool[AsyncConnection], fix: str
    ) -> DatabaseConnectionError:
        """The error for a permanent connection failure; the pool is closed, so it stops
        retrying (and logging) in the background; the next call opens a new one."""
        error = self._health.error
        target = display(self._url) if self._url else self.settings.display_url
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self._health = _Health()
        if True:  # ASYNC
            await pool.close(timeout=1.0)
        else:
            pool.close(timeout=1.0)
        return DatabaseConnectionError(
            f"cannot connect to {target}: {self._detail(error)}; {fix}"
            f" ({connection_hint(self.settings)})"
        )

    def _detail(self, error: BaseException | None) -> str:
        text = str(error).strip() if error is not None else "unknown error"
        return scrub(text, self._url or "").replace("\n", " ")


async def probe(
    url: str, settings: Settings, timeout: int = 5, *, report_pending: bool = False
) -> DatabaseConnectionError | None:
    """Try ``SELECT 1`` on a new connection to *url*; the error (redacted) if it fails.

    With *report_pending*, pending migrations are then logged as a warning (`report`).
    """
    try:
        async with await psycopg.AsyncConnection.connect(
            url, **{**connect_kwargs(settings, url=url), "connect_timeout": timeout}
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

    def replicas(self) -> None:
        """A pinned connection reads where it is: none."""
        return None

    def refused_prepared(self, error: BaseException) -> bool:
        """A pinned connection is direct: never."""
        return False

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
_UNRESOLVED: Any = object()


def _idle_check(after: float | None) -> Callable[[AsyncConnection], Awaitable[None]] | None:
    """The pool's ``check`` callback: test connections idle for *after* seconds or more."""
    if after is None:
        return None

    async def check(conn: AsyncConnection) -> None:
        if monotonic() - getattr(conn, RETURNED_AT, monotonic()) >= after:
            stamp(conn, _HOUSEKEEPING_SECONDS)
            try:
                await AsyncConnectionPool.check_connection(conn)
            finally:
                setattr(conn, DEADLINE, None)

    return check


def _new_pool(
    url: str,
    settings: Settings,
    extra: Callable[[AsyncConnection], Awaitable[None]] | None,
    options: PoolOptions,
    health: _Health,
) -> _Pool:
    async def configure(conn: AsyncConnection) -> None:
        stamp(conn, _HOUSEKEEPING_SECONDS)
        await configure_connection(conn)
        if extra is not None:
            await extra(conn)
            dbtx.reset(conn)
        setattr(conn, DEADLINE, None)

    logger.debug("opening connection pool on %s", display(url))
    quiet_repeats()
    return _Pool(
        url,
        connection_class=_recording(connection_class(), health),
        min_size=settings.min_size,
        max_size=settings.max_size,
        timeout=settings.pool_timeout,
        max_idle=options.max_idle,
        max_lifetime=options.max_lifetime,
        kwargs=connect_kwargs(settings, options, url),
        configure=configure,
        check=_idle_check(options.check_idle_after),
        name=POOL_NAME,
        open=False,
    )


def is_idle(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether *conn* is outside any transaction (so a block on it is a real transaction)."""
    return conn.pgconn.transaction_status == _IDLE
