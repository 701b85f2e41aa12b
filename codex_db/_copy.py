"""Binary COPY for `Conn`/`AsyncConn`: range-checked dumpers and errors that name the column.

``copy_rows(..., types=...)`` has psycopg dump each value by its column's declared
type (``Copy.set_types``) instead of by its Python type. The server then casts
nothing, so a value the type cannot hold must be caught on the client: psycopg's
dumpers raise for most (a naive datetime for ``timestamptz``, a ``str`` for
``uuid``), and `COPY_DUMPERS` cover the ones whose C dumpers would silently keep
the low bits (``int2``, ``int4``) or overflow to infinity (``float4``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

import msgspec
import psycopg
from psycopg import pq
from psycopg.abc import AdaptContext
from psycopg.adapt import Dumper
from psycopg.types.json import Json, Jsonb, JsonbBinaryDumper

from codex_db.errors import CopyDataError

__all__ = ["COPY_DUMPERS", "MsgspecJsonbBinaryDumper", "copy_data_error"]

_OIDS = psycopg.postgres.types


class _Int2BinaryDumper(Dumper):
    format = pq.Format.BINARY
    oid = _OIDS["int2"].oid
    # struct raises for an int out of range; a C-level call per value, no Python frame.
    dump = staticmethod(struct.Struct("!h").pack)  # type: ignore[assignment]


class _Int4BinaryDumper(Dumper):
    format = pq.Format.BINARY
    oid = _OIDS["int4"].oid
    dump = staticmethod(struct.Struct("!i").pack)  # type: ignore[assignment]


class _Float4BinaryDumper(Dumper):
    format = pq.Format.BINARY
    oid = _OIDS["float4"].oid
    dump = staticmethod(struct.Struct("!f").pack)  # type: ignore[assignment]


COPY_DUMPERS: tuple[type[Dumper], ...] = (_Int2BinaryDumper, _Int4BinaryDumper, _Float4BinaryDumper)
"""Binary dumpers found by type name only (registered with ``cls=None``), so only COPY
with ``set_types`` uses them; a query's parameters are still dumped by Python type."""

_encode = msgspec.json.encode


class MsgspecJsonbBinaryDumper(JsonbBinaryDumper):
    """jsonb for binary COPY with msgspec: one call per value, no `Jsonb` wrapper needed.

    psycopg's dumper (which `codex_db.dbtx.configure` points at msgspec too) takes
    three Python calls per value; wrapped values still go through it.
    """

    def __init__(self, cls: type, context: AdaptContext | None = None) -> None:
        super().__init__(cls, context)
        self.dumps = _encode  # for wrapped values

    def dump(self, obj: Any) -> bytes | None:
        """The jsonb binary format: version 1, then the JSON text."""
        if isinstance(obj, Json | Jsonb):
            return super().dump(obj)  # type: ignore[return-value]  # always bytes here
        return b"\x01" + _encode(obj)


_NAME = re.compile(r"^--\s*name:\s*(\S+)", re.MULTILINE)
_TABLE = re.compile(r"\bCOPY\s+(\S+)", re.IGNORECASE)
_COLUMNS = re.compile(r"\(([^()]*)\)\s*FROM\s+STDIN", re.IGNORECASE)


def copy_data_error(
    statement: str,
    types: Sequence[str],
    row: Sequence[Any],
    context: AdaptContext,
    format: pq.Format,
) -> CopyDataError | None:
    """The error naming the column of *row* that the COPY's dumpers refuse, if one does.

    Called when writing *row* failed: dumping its values one by one finds the
    culprit. None when they all dump (the failure came from elsewhere: re-raise it).
    """
    for index, (type_name, value) in enumerate(zip(types, row, strict=False)):
        if value is None:
            continue
        try:
            oid = context.adapters.types.get_oid(type_name)
            context.adapters.get_dumper_by_oid(oid, format)(type(value), context).dump(value)
        except Exception as exc:  # whatever the dumper raised is the explanation
            column = _column(statement, index)
            return CopyDataError(_message(_query(statement), column, type_name, value, exc))
    return None


def _message(query: str, column: str, type_name: str, value: Any, exc: Exception) -> str:
    where = f"{query}: column {column} ({type_name})"
    if isinstance(value, datetime) and value.utcoffset() is None and type_name == "timestamptz":
        return (
            f"{where} got a naive datetime: pass an aware datetime, e.g. datetime.now(timezone.utc)"
        )
    if isinstance(value, datetime) and value.utcoffset() is not None and type_name == "timestamp":
        return (
            f"{where} got an aware datetime, but the column has no time zone: "
            "pass a naive datetime, e.g. value.astimezone(timezone.utc).replace(tzinfo=None)"
        )
    if isinstance(value, time) and value.tzinfo is None and type_name == "timetz":
        return f"{where} got a naive time: pass one with a fixed offset, e.g. tzinfo=timezone.utc"
    # No value in the message: it also goes to the server log as the reason of the abort.
    return f"{where} cannot take this {type(value).__name__}: {exc}"


def _query(statement: str) -> str:
    if found := _NAME.search(statement):
        return found.group(1)
    found = _TABLE.search(statement)
    return f"COPY {found.group(1)}" if found else "COPY"


def _column(statement: str, index: int) -> str:
    """The *index*-th column of the COPY's column list, quoted, or its position."""
    found = _COLUMNS.search(statement)
    names = [n.strip() for n in found.group(1).split(",")] if found else []
    if index < len(names) and names[index]:
        name = names[index]
        if name.startswith('"') and name.endswith('"'):
            name = name[1:-1].replace('""', '"')
        return f'"{name}"'
    return f"#{index + 1}"
