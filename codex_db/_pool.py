"""Engines: where the clients get their connections (a lazy pool, or one pinned connection)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

from codex_db import dbtx
from codex_db._dsn import redact
from codex_db.config import DBMethod, Settings, scrub
from codex_db.errors import DatabaseConnectionError, PoolExhaustedError

__all__ = ["Engine", "PinnedEngine", "PoolEngine", "configure_connection", "connection_hint"]

logger = logging.getLogger("codex_db")

#: A connection as the pool hands it out (autocommit, tuple rows by default).
Connection = psycopg.Connection[tuple[Any, ...]]


class Engine(Protocol):
    """Where a client gets its connections."""

    def checkout(self) -> AbstractContextManager[Connection]:
        """A connection for one autocommit statement."""
        ...

    def begin(self) -> AbstractContextManager[Connection]:
        """A connection to run a transaction block on."""
        ...

    def close(self) -> None:
        """Release every connection this engine opened."""
        ...

    def describe(self) -> str:
        """The redacted target, for reprs and messages."""
        ...


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    """Set up a new connection: msgspec for json/jsonb, and the generated enum types."""
    from codex_db.generated import models  # generated code imports the runtime

    dbtx.configure(conn)
    models.register_types(conn)


def connection_hint(settings: Settings) -> str:
    """Which environment variable to check when *settings* cannot connect."""
    if settings.method is DBMethod.EMBEDDED:
        return "check the embedded server (CODEX_DB_DATA_DIR), or set DATABASE_URL"
    if settings.method is DBMethod.LOCAL_PROXY:
        return "check DATABASE_URL_LOCAL_PROXY and that the local server runs"
    return "check DATABASE_URL (and DB_METHOD) and that the server accepts connections"


class PoolEngine:
    """A psycopg-pool `ConnectionPool` opened on first use; thread-safe.

    After `close()` the next use opens a new pool, so a closed client is
    usable again (e.g. after a fork).
    """

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        configure: Callable[[Connection], None] | None = None,
    ) -> None:
        self._source = settings
        self._configure = configure
        self._settings = settings if isinstance(settings, Settings) else None
        self._pool: ConnectionPool[Connection] | None = None
        self._url: str | None = None
        self._lock = threading.Lock()

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
        """The URL connections go to; starts the embedded server if that is the target."""
        settings = self.settings
        with self._lock:
            if self._url is None:
                self._url = _target_url(settings)
            return self._url

    @contextmanager
    def checkout(self) -> Iterator[Connection]:
        pool = self._pool or self._open()
        try:
            conn = pool.getconn()
        except PoolTimeout as exc:
            raise self._timeout_error(pool, exc) from None
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def begin(self) -> AbstractContextManager[Connection]:
        return self.checkout()

    def close(self) -> None:
        """Close the pool; settings read from the environment are read again on next use."""
        with self._lock:
            pool, self._pool = self._pool, None
            if not isinstance(self._source, Settings):
                self._settings = self._url = None
        if pool is not None:
            pool.close()

    def describe(self) -> str:
        settings = self._settings
        if settings is None:
            return "from the environment (not resolved yet)"
        return redact(self._url) if self._url else settings.display_url

    def _resolve(self) -> Settings:
        source = self._source
        return source if isinstance(source, Settings) else source()

    def _open(self) -> ConnectionPool[Connection]:
        settings, url = self.settings, self.url()
        with self._lock:
            if self._pool is None:
                self._pool = _new_pool(url, settings, self._configure)
            return self._pool

    def _timeout_error(self, pool: ConnectionPool[Connection], exc: PoolTimeout) -> Exception:
        stats = pool.get_stats()
        if stats.get("connections_errors", 0) and self._url:
            # The pool has failed to connect: say why, if that is still the case.
            failure = probe(self._url, self.settings)
            if failure is not None:
                return failure
        in_use = stats.get("pool_size", 0) - stats.get("pool_available", 0)
        return PoolExhaustedError(
            f"no free connection after {pool.timeout:.2f} sec: {in_use} of max_size="
            f"{pool.max_size} in use, {stats.get('requests_waiting', 0)} waiting;"
            " raise Settings.max_size or pool_timeout, or keep transactions shorter"
        )


def probe(url: str, settings: Settings, timeout: int = 5) -> DatabaseConnectionError | None:
    """Try ``SELECT 1`` on a new connection to *url*; the error (redacted) if it fails."""
    try:
        with psycopg.connect(url, connect_timeout=timeout, **_connect_kwargs(settings)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        detail = scrub(str(exc).strip(), url).replace("\n", " ")
        return DatabaseConnectionError(
            f"cannot connect to {redact(url)}: {detail}; {connection_hint(settings)}"
        )
    return None


class PinnedEngine:
    """Every call runs on one connection, inside the transaction it is in.

    For tests: the connection sits in a transaction rolled back afterwards, so
    transaction blocks become savepoints, and each autocommit statement runs in
    a savepoint of its own, so a failed statement does not poison the next.
    """

    def __init__(self, conn: Connection) -> None:
        self.connection = conn

    @contextmanager
    def checkout(self) -> Iterator[Connection]:
        with self.connection.transaction():
            yield self.connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self.connection

    def close(self) -> None:
        """The connection belongs to whoever pinned it: nothing to do."""

    def describe(self) -> str:
        info = self.connection.info
        return f"pinned connection to {info.host}:{info.port}/{info.dbname}"


def _connect_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "autocommit": True,
        "prepare_threshold": settings.prepare_threshold,
        "application_name": settings.application_name,
    }


def _new_pool(
    url: str, settings: Settings, extra: Callable[[Connection], None] | None
) -> ConnectionPool[Connection]:
    def configure(conn: Connection) -> None:
        configure_connection(conn)
        if extra is not None:
            extra(conn)
            dbtx.reset(conn)

    logger.debug("opening connection pool on %s", redact(url))
    return ConnectionPool(
        url,
        min_size=settings.min_size,
        max_size=settings.max_size,
        timeout=settings.pool_timeout,
        kwargs=_connect_kwargs(settings),
        configure=configure,
        name="codex-db",
        open=True,
    )


def _target_url(settings: Settings) -> str:
    if settings.url is not None:
        return settings.url
    from codex_db.server import start_embedded

    server = start_embedded(settings.data_dir)
    if settings.auto_migrate:
        _migrate(server.url)
    return server.url


def _migrate(url: str) -> None:
    from codex_db import migrate

    applied = migrate.apply(url)
    if applied:
        logger.info("applied %d migration(s) to the embedded database: %s", len(applied), applied)


def is_idle(conn: Connection) -> bool:
    """Whether *conn* is outside any transaction (so a block on it is a real transaction)."""
    return conn.info.transaction_status == pq.TransactionStatus.IDLE
