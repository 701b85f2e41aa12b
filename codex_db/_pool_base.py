"""What both engines (sync and async) share, without I/O: pool options, connect arguments, hints."""

from __future__ import annotations

import logging
import os
import re
import select
from collections.abc import Mapping
from time import monotonic
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout

from codex_db.config import DBMethod, Pooler, PoolOptions, Settings
from codex_db.errors import CodexDBError

__all__ = [
    "NETWORK_DEFAULTS",
    "POOL_NAME",
    "RETURNED_AT",
    "connect_kwargs",
    "connection_hint",
    "exhausted_message",
    "is_connection_lost",
    "is_dead",
    "is_prepared_refusal",
    "local_timeouts",
    "logger",
    "milliseconds",
    "permanent_fix",
    "quiet_repeats",
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


#: libpq settings codex-db adds unless the URL (or ``PGCONNECT_TIMEOUT``) sets them:
#: give up connecting after 10 s (libpq has no limit, psycopg 130 s), notice a dead
#: peer on an idle connection within about a minute (TCP keepalives: first probe
#: after 30 s idle, then every 10 s, 3 lost), and fail a write the peer does not
#: acknowledge for 30 s (``tcp_user_timeout``, ms) instead of after ~15 minutes of
#: kernel retransmissions. None of them bounds a server that answers TCP but not
#: queries (a stalled proxy): the client-side deadline does (`PoolOptions.deadline`).
NETWORK_DEFAULTS: Mapping[str, str] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}
_ENV_OF = {"connect_timeout": "PGCONNECT_TIMEOUT"}


def network_defaults(url: str | None) -> dict[str, str]:
    """`NETWORK_DEFAULTS` less what *url* or the libpq environment already sets."""
    given = conninfo_to_dict(url) if url else {}
    return {
        name: value
        for name, value in NETWORK_DEFAULTS.items()
        if name not in given and not os.environ.get(_ENV_OF.get(name, ""), "")
    }


def connect_kwargs(
    settings: Settings, options: PoolOptions | None = None, url: str | None = None
) -> dict[str, Any]:
    """psycopg ``connect()`` arguments for *settings* (connecting to *url*).

    `NETWORK_DEFAULTS` the URL does not set are added (a URL's own
    ``connect_timeout=3`` or ``keepalives=0`` wins).

    The client-wide statement timeout is a startup parameter on a direct
    connection (``options=-c statement_timeout=...``: no round trip). A
    transaction pooler rejects or drops startup options (PgBouncer 1.18 fails
    with "unsupported startup parameter: options"), so there it is applied with
    ``SET LOCAL`` in every transaction instead (`local_timeouts`).
    """
    kwargs: dict[str, Any] = {
        **network_defaults(url),
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


def exhausted_message(
    target: str,
    timeout: float,
    max_size: int,
    *,
    in_use: int,
    connecting: int,
    waiting: int,
) -> str:
    """The `PoolExhaustedError` message: what the pool's connections are doing, and the fix.

    *in_use* are checked out by callers, *connecting* are being opened, and
    *waiting* are the other callers waiting in the pool now.
    """
    if in_use >= max_size:
        fix = "raise max_size or pool_timeout, or hold connections (transactions) for less time"
    else:
        fix = "connections are still being opened: the server is slow to accept them"
    return (
        f"no free connection to {target} after {timeout:.2f} s: {in_use} of"
        f" max_size={max_size} in use, {connecting} connecting, {waiting} other callers"
        f" waiting; {fix}"
    )


#: What libpq says when connecting cannot succeed by waiting: each with the fix.
_PERMANENT = (
    (re.compile(r"password authentication failed|authentication failed"), "fix the password"),
    (re.compile(r'role "[^"]*" does not exist'), "fix the user name"),
    (re.compile(r'database "[^"]*" does not exist'), "create the database, or fix its name"),
    (re.compile(r"no pg_hba\.conf entry"), "allow this client in the server's pg_hba.conf"),
    (re.compile(r"SSL|sslmode|certificate", re.I), "fix sslmode (and the certificates)"),
    (
        re.compile(r"could not translate host name|Name or service not known|nodename nor"),
        "fix the host name",
    ),
    (re.compile(r"invalid (connection option|URI|integer value)"), "fix the URL's parameters"),
)


def permanent_fix(error: BaseException) -> str | None:
    """The fix when *error*, from connecting, cannot go away by waiting (bad password,
    unknown role or database, TLS refused, unresolvable host); None when it may
    (refused during a restart, too many connections, a timeout)."""
    text = str(error)
    for pattern, fix in _PERMANENT:
        if pattern.search(text):
            return fix
    return None


#: 42P05 duplicate_prepared_statement ("_pg3_0" already exists), 26000
#: invalid_sql_statement_name ("_pg3_2" does not exist).
_PREPARED_SQLSTATES = frozenset({"42P05", "26000"})


def is_prepared_refusal(error: BaseException) -> bool:
    """Whether *error* is a prepared statement of psycopg's (``_pg3_N``) colliding on a
    pooler that passes statement names through: at Parse or Bind, so it did not run."""
    if not isinstance(error, psycopg.Error) or "_pg3_" not in str(error):
        return False
    state = error.sqlstate
    return state in _PREPARED_SQLSTATES or (state == "08P01" and "bind message" in str(error))


def is_dead(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether idle *conn* has lost its server, found without a round trip.

    An idle connection's socket has nothing to read unless the server wrote on
    its own: a FATAL error and EOF when the backend was terminated or the
    server stopped (or a notice or NOTIFY, which is consumed and kept).
    """
    pgconn = conn.pgconn
    if pgconn.status != _CONN_OK:
        return True
    try:
        poll = select.poll()
        poll.register(pgconn.socket, select.POLLIN)
        # A FATAL message and the EOF after it may take two reads to be seen.
        for _ in range(3):
            if not poll.poll(0):
                break
            pgconn.consume_input()
    except (OSError, psycopg.OperationalError):
        return True
    return pgconn.status != _CONN_OK or pgconn.transaction_status != _IDLE


class _Repeats(logging.Filter):
    """Lets through one "error connecting" line of codex-db's pools per distinct error a
    minute: psycopg-pool logs one per attempt, and attempts come every quarter second
    while callers wait."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.msg != "error connecting in %r: %s" or not isinstance(args, tuple):
            return True
        if len(args) != 2 or args[0] != POOL_NAME:
            return True
        key, now = str(args[1]), monotonic()
        last = self._seen.get(key)
        if len(self._seen) > 100:
            self._seen.clear()
        self._seen[key] = now if last is None or now - last > 60 else last
        return last is None or now - last > 60


#: The name of codex-db's pools in psycopg-pool's log lines.
POOL_NAME = "codex-db"
_REPEATS = _Repeats()


def quiet_repeats() -> None:
    """Install the filter that logs each connection failure of our pools once a minute."""
    pool_logger = logging.getLogger("psycopg.pool")
    if _REPEATS not in pool_logger.filters:
        pool_logger.addFilter(_REPEATS)


_CONN_OK = psycopg.pq.ConnStatus.OK
_IDLE = psycopg.pq.TransactionStatus.IDLE


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
