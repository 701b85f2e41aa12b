"""What both engines (sync and async) share: pool options, connect arguments and error hints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import msgspec
import psycopg
from psycopg import abc, pq
from psycopg.adapt import Loader
from psycopg_pool import PoolTimeout

from codex_db.config import DBMethod, Pooler, Settings
from codex_db.errors import CodexDBError

__all__ = [
    "RETURNED_AT",
    "UTC_ZONES",
    "PoolOptions",
    "connect_kwargs",
    "connection_hint",
    "exhausted_message",
    "is_connection_lost",
    "is_utc_zone",
    "local_timeouts",
    "logger",
    "milliseconds",
    "register_utc_timestamptz",
    "target_url",
]

logger = logging.getLogger("codex_db")

#: Attribute stamped on a connection when it goes back to the pool (``time.monotonic()``).
RETURNED_AT = "_codex_db_returned_at"

# 57P01 admin_shutdown (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown,
# 57P03 cannot_connect_now (starting up); class 08 is "connection exception".
_LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


class PoolOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How a client's pool treats its connections; the defaults suit scale-to-zero servers.

    Neon suspends an idle compute after 5 minutes, which closes every
    connection: a pooled connection idle for longer than *check_idle_after*
    seconds is tested (one empty query) before it is handed out, and a dead one
    is replaced, so the first call after a cold start does not fail. When a
    call finds its connection lost, the pool also tests all its idle ones.
    """

    check_idle_after: float | None = 30.0
    """Test a connection idle this many seconds when it is checked out (0: always; None: never)."""
    max_idle: float = 240.0
    """Close connections (above ``min_size``) idle this long: less than Neon's 5-minute suspend."""
    max_lifetime: float = 1800.0
    """Replace every connection after this many seconds (spreads reconnects, picks up failovers)."""
    statement_timeout: float | None = None
    """Client-wide default ``statement_timeout`` in seconds; see `connect_kwargs`."""


def connection_hint(settings: Settings) -> str:
    """Which environment variable to check when *settings* cannot connect."""
    if settings.method is DBMethod.EMBEDDED:
        return "check the embedded server (CODEX_DB_DATA_DIR), or set DATABASE_URL"
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


def target_url(settings: Settings) -> str:
    """The URL connections go to; starts (and migrates) the embedded server if that is the target.

    It blocks: the async engine runs it in a thread.
    """
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


#: ``TimeZone`` values PostgreSQL reports for zones that are UTC (tzdata names and links),
#: compared case-insensitively.
UTC_ZONES = frozenset(
    name.casefold()
    for name in (
        "UTC",
        "UCT",
        "GMT",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Greenwich",
        "Universal",
        "Zulu",
        "Etc/UTC",
        "Etc/UCT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/Greenwich",
        "Etc/Universal",
        "Etc/Zulu",
    )
)


def is_utc_zone(name: str | None) -> bool:
    """Whether a server ``TimeZone`` value names UTC."""
    return name is not None and name.casefold() in UTC_ZONES


def _utc_loader(base: type[abc.Loader]) -> type[abc.Loader]:
    """A timestamptz loader returning `datetime.timezone.utc` datetimes on a UTC server.

    psycopg maps only the literal ``UTC`` to `datetime.timezone.utc`: for any other
    name of UTC (``Etc/UTC``...) it converts every cell with a `zoneinfo.ZoneInfo`.
    A loader built without a connection uses `datetime.timezone.utc`, so this one
    builds *base* (the class psycopg registered, C or Python: the C ones cannot be
    subclassed) that way while the connection's zone is UTC, and normally otherwise
    (the zone can change with ``SET timezone``). Without a connection the text
    loader assumes ISO ``DateStyle``, so it is only registered when that is the style.
    """

    class UtcTimestamptzLoader(Loader):
        format = base.format

        def __new__(cls, oid: int, context: abc.AdaptContext | None = None) -> Any:
            # Built for every result set whose query differs from the cursor's
            # previous one: read the raw parameter, and remember each zone's answer.
            connection = context.connection if context is not None else None
            if connection is not None:
                zone = connection.pgconn.parameter_status(b"TimeZone")
                utc = _ZONE_IS_UTC.get(zone)
                if utc is None:
                    utc = _ZONE_IS_UTC[zone] = is_utc_zone(zone.decode() if zone else None)
                if not utc:
                    return base(oid, context)
            return base(oid, None)

    UtcTimestamptzLoader.__qualname__ = UtcTimestamptzLoader.__name__ = f"Utc{base.__name__}"
    return UtcTimestamptzLoader


_UTC_LOADERS: dict[type[abc.Loader], type[abc.Loader]] = {}

#: Raw ``TimeZone`` parameter -> whether it names UTC (a handful of entries at most).
_ZONE_IS_UTC: dict[bytes | None, bool] = {}


def register_utc_timestamptz(
    connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any],
) -> bool:
    """On a server whose ``TimeZone`` names UTC, load timestamptz without `zoneinfo`.

    The values are the same instants, with ``tzinfo`` `datetime.timezone.utc`. Arrays
    use the element's loader. Nothing is registered for other zones, or for a
    ``DateStyle`` other than ISO. No session state is set, so it is safe behind a
    transaction pooler. Returns whether the loaders were registered; call
    `codex_db.dbtx.reset` afterwards (`configure_connection` does).
    """
    info = connection.info
    if not is_utc_zone(info.parameter_status("TimeZone")):
        return False
    datestyle = info.parameter_status("DateStyle") or "ISO"
    if not datestyle.upper().startswith("ISO"):
        return False
    adapters = connection.adapters
    for fmt in (pq.Format.TEXT, pq.Format.BINARY):
        base = adapters.get_loader(_TIMESTAMPTZ_OID, fmt)
        if base is None:
            continue
        if base in _UTC_LOADERS.values():
            continue
        loader = _UTC_LOADERS.get(base)
        if loader is None:
            loader = _UTC_LOADERS[base] = _utc_loader(base)
        adapters.register_loader(_TIMESTAMPTZ_OID, loader)
    return True


_TIMESTAMPTZ_OID = 1184
