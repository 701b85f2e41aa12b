"""The connection protocol generated query functions run on, and its psycopg adapters.

Generated code calls a handful of methods on its first argument (`DBTX` or
`AsyncDBTX`): ``users.get_user(db, id=...)`` works with anything implementing them.
`Conn` / `AsyncConn` implement them on a raw psycopg connection and are the hot
path: get one with ``Conn.of(connection)`` (cached on the connection), whether the
connection is in autocommit mode or inside a transaction. `AsyncConn`
(``codex_db/_conn_async.py``) is the source; `Conn` is generated from it by
``scripts/async_to_sync.py``.

Each adapter holds one `psycopg.RawCursor` (sqlc's ``$1`` placeholders need no
rewriting), fetches plain tuples and builds rows with ``make(*cells)``. Preparation
is left to the connection's ``prepare_threshold`` (set it to None behind PgBouncer
in transaction mode). psycopg errors propagate unchanged.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Sequence
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from typing import Any, LiteralString, Protocol, TypeAlias, TypeVar

import msgspec
import psycopg
from psycopg.types.enum import EnumInfo, register_enum
from psycopg.types.json import Json, Jsonb, set_json_dumps, set_json_loads

from codex_db._conn import Conn
from codex_db._conn_async import AsyncConn
from codex_db._copy import MsgspecJsonbBinaryDumper
from codex_db._dbtx_base import ADAPTER_ATTRIBUTE, ExecResult, Params

__all__ = [
    "DBTX",
    "AsyncConn",
    "AsyncDBTX",
    "Cidr",
    "Conn",
    "ExecResult",
    "Inet",
    "Params",
    "cells",
    "configure",
    "embed",
    "load_enums",
    "load_enums_async",
    "maybe_json",
    "maybe_jsonb",
    "register_enums",
    "reset",
    "scalar",
    "void",
]

# Implemented in private modules, documented here: show and pickle them as ours.
for _public in (Conn, AsyncConn, ExecResult):
    _public.__module__ = __name__

T = TypeVar("T")

Inet: TypeAlias = IPv4Address | IPv6Address | IPv4Interface | IPv6Interface
"""What psycopg returns for ``inet``: an address, or an interface when there is a prefix."""

Cidr: TypeAlias = IPv4Network | IPv6Network
"""What psycopg returns for ``cidr``."""


class DBTX(Protocol):
    """What sync generated functions need from their connection argument."""

    def fetch_one(self, query: LiteralString, params: Params, make: Callable[..., T]) -> T | None:
        """The first row built with ``make(*cells)``, or None when there is none."""
        ...

    def fetch_all(self, query: LiteralString, params: Params, make: Callable[..., T]) -> list[T]:
        """Every row, built with ``make(*cells)``."""
        ...

    def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> Generator[T, None, None]:
        """Rows as they arrive; exhaust or ``close()`` the generator before the next query."""
        ...

    def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected."""
        ...

    def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and the command tag."""
        ...

    def copy_rows(
        self,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        *,
        types: Sequence[str] | None = None,
    ) -> int:
        """``COPY ... FROM STDIN`` the rows; return the number of rows copied.

        *types* (column type names for ``Copy.set_types``) make values dump by column
        type, as a binary COPY needs; None dumps them by Python type (text COPY).
        """
        ...


class AsyncDBTX(Protocol):
    """What async generated functions need from their connection argument."""

    async def fetch_one(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> T | None:
        """The first row built with ``make(*cells)``, or None when there is none."""
        ...

    async def fetch_all(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> list[T]:
        """Every row, built with ``make(*cells)``."""
        ...

    def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> AsyncGenerator[T, None]:
        """Rows as they arrive; exhaust or ``close()`` the generator before the next query."""
        ...

    async def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected."""
        ...

    async def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and the command tag."""
        ...

    async def copy_rows(
        self,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        *,
        types: Sequence[str] | None = None,
    ) -> int:
        """``COPY ... FROM STDIN`` the rows; return the number of rows copied.

        *types* (column type names for ``Copy.set_types``) make values dump by column
        type, as a binary COPY needs; None dumps them by Python type (text COPY).
        """
        ...


def reset(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    """Drop the adapter cached on *connection*; call it after changing its adapters.

    The adapter's cursor copies the connection's type adapters when it is created, so
    loaders registered later (enums, JSON) would not be seen by it. `configure` and the
    generated ``register_types`` call this for you.
    """
    if getattr(connection, ADAPTER_ATTRIBUTE, None) is not None:
        setattr(connection, ADAPTER_ATTRIBUTE, None)


def configure(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    """Use msgspec for json/jsonb on *connection*: decoding results and encoding parameters.

    msgspec's decoder is several times faster than the stdlib's, and its encoder
    also accepts Structs. Call it once per connection (e.g. in the pool's
    ``configure`` callback), together with the generated ``models.register_types``.
    Binary COPY (``:copyfrom``) encodes jsonb with msgspec too, wrapped in `Jsonb` or not.
    """
    set_json_loads(msgspec.json.decode, connection)
    set_json_dumps(msgspec.json.encode, connection)
    # By type name only, after set_json_dumps: what Copy.set_types(["jsonb"]) finds.
    connection.adapters.register_dumper(None, MsgspecJsonbBinaryDumper)
    reset(connection)


def scalar(value: Any, /) -> Any:
    """Row maker for one-column results: the cell itself."""
    return value


def cells(*values: Any) -> tuple[Any, ...]:
    """Row maker that keeps the row's cells: grouped (``-- group:``) queries fold them."""
    return values


def void(value: object, /) -> None:
    """Row maker for a ``void`` result (``pg_advisory_lock()``): psycopg loads it as ``''``."""
    return None


def embed(make: Callable[..., T], cells: Sequence[Any]) -> T | None:
    """Build an embedded row from its cells, or None when they are all NULL (outer joins)."""
    for cell in cells:
        if cell is not None:
            return make(*cells)
    return None


def maybe_jsonb(value: Any) -> Jsonb | None:
    """Wrap a value for a nullable jsonb parameter: None stays SQL NULL."""
    return None if value is None else Jsonb(value)


def maybe_json(value: Any) -> Json | None:
    """Wrap a value for a nullable json parameter: None stays SQL NULL."""
    return None if value is None else Json(value)


# -- enum types ------------------------------------------------------------------------------

#: An enum class generated for a PostgreSQL enum type, and that type's name.
EnumType: TypeAlias = tuple[type[enum.StrEnum], str]

_ENUMS: dict[str, type[enum.StrEnum]] = {}
_logger = logging.getLogger("codex_db")


def register_enums(enums: Iterable[EnumType]) -> None:
    """Make the pools' connections load *enums* as their `enum.StrEnum` classes.

    The generated ``models`` module calls it when it is imported, so the runtime
    never imports generated code; each new pooled connection then loads every enum
    registered so far (`load_enums`).
    """
    for enum_class, type_name in enums:
        _ENUMS[type_name] = enum_class


def load_enums(connection: psycopg.Connection[Any]) -> list[str]:
    """Register the known enums (and their arrays) on *connection*; return the ones missing.

    A type the database does not have (yet) is skipped with a debug log line:
    a client connects to a database behind the code, and the query that needs the
    type fails with the server's own error.
    """
    missing = [
        name
        for name, cls in list(_ENUMS.items())
        if not _load(EnumInfo.fetch(connection, name), cls, connection)
    ]
    return _loaded(connection, missing)


async def load_enums_async(connection: psycopg.AsyncConnection[Any]) -> list[str]:
    """`load_enums` on an async connection."""
    missing = [
        name
        for name, cls in list(_ENUMS.items())
        if not _load(await EnumInfo.fetch(connection, name), cls, connection)
    ]
    return _loaded(connection, missing)


def _load(
    info: EnumInfo | None,
    enum_class: type[enum.StrEnum],
    connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any],
) -> bool:
    if info is None:
        return False
    register_enum(info, connection, enum_class, mapping={m: m.value for m in enum_class})
    return True


def _loaded(
    connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], missing: list[str]
) -> list[str]:
    if missing:
        _logger.debug("enum types not in the database (yet), not loaded: %s", ", ".join(missing))
    reset(connection)
    return missing
