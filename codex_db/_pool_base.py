"""What both engines (sync and async) share, without I/O: pool options, connect arguments, hints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from codex_db.config import DBMethod, Pooler, PoolOptions, Settings
from codex_db.errors import CodexDBError

__all__ = [
    "RETURNED_AT",
    "connect_kwargs",
    "connection_hint",
    "exhausted_message",
    "is_connection_lost",
    "local_timeouts",
    "logger",
    "milliseconds",
]

logger = logging.getLogger("codex_db")

#: Attribute stamped on a connection when it goes back to the pool (``time.monotonic()``).
RETURNED_AT = "_codex_db_returned_at"

# 57P01 admin_shutdown (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown,
# 57P03 cannot_connect_now (starting up); class 08 is "connection exception".
_LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def connection_hint(settings: Settings) -> str:
    """Which environment variable to check when *settings* cannot connect."""
    if settings.method is DBMethod.EMBEDDED:
        return "check the embedded server (CODEX_DB_EMBEDDED_DIR), or set DATABASE_URL"
    if settings.method is DBMethod.LOCAL_PROXY:
        return "check DATABASE_URL_LOCAL_PROXY and that the local server runs"
    return "check DATABASE_URL (and DB_METHOD) and that the server accepts connections"


def milliseconds(seconds: float) -> str:
    """A PostgreSQL duration setting for *seconds* (``'1500ms'``)."""
    return f"{max(round(seconds * 1000), 1)}ms"


def connect_kwargs(settings: Settings, options: PoolOptions | None = None) -> dict[str, Any]:
    """psycopg ``connect()`` arguments for *settings*.

    The client-wide statement timeout is a startup parameter on a direct
    connection (``options=-c statement_timeout=...``: no round trip). A
    transaction pooler rejects or drops startup options (PgBouncer 1.18 fails
    with "unsupported startup parameter: options"), so there it is applied with
    ``SET LOCAL`` in every transaction instead (`local_timeouts`).
    """
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": settings.prepare_threshold,
        "application_name": settings.application_name,
    }
    timeout = options.statement_timeout if options else None
    if timeout is not None and settings.pooler is Pooler.NONE:
        kwargs["options"] = f"-c statement_timeout={milliseconds(timeout)}"
    return kwargs


def local_timeouts(settings: Settings, options: PoolOptions | None) -> Mapping[str, str]:
    """Settings every transaction must ``SET LOCAL`` because the connection cannot carry them."""
    timeout = options.statement_timeout if options else None
    if timeout is None or settings.pooler is Pooler.NONE:
        return {}
    return {"statement_timeout": milliseconds(timeout)}


def exhausted_message(stats: Mapping[str, int], timeout: float, max_size: int) -> str:
    """The `PoolExhaustedError` message: how many connections are in use, the max, the wait."""
    in_use = stats.get("pool_size", 0) - stats.get("pool_available", 0)
    return (
        f"no free connection after {timeout:.2f} sec: {in_use} of max_size={max_size} in use,"
        f" {stats.get('requests_waiting', 0)} waiting;"
        " raise Settings.max_size or pool_timeout, or keep transactions shorter"
    )


def is_connection_lost(error: BaseException) -> bool:
    """Whether *error* says the connection died under a statement (which may not have run).

    True for the server ending the session (57P01, e.g. ``pg_terminate_backend``
    or a restart), class 08 errors and psycopg's own connection failures without a
    SQLSTATE. False for our errors (pool exhausted, cannot connect) and every
    other database error.
    """
    if isinstance(error, CodexDBError | PoolTimeout) or not isinstance(
        error, psycopg.OperationalError
    ):
        return False
    state = error.sqlstate
    return state is None or state in _LOST_SQLSTATES or state.startswith("08")
