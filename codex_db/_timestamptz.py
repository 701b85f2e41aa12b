"""timestamptz without `zoneinfo` on servers whose time zone is UTC (every row, cheaper)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import abc, pq
from psycopg.adapt import Loader

__all__ = ["UTC_ZONES", "is_utc_zone", "register_utc_timestamptz"]

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
