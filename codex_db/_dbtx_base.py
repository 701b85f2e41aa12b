"""Types shared by the `codex_db.dbtx` protocols and their psycopg adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import msgspec

__all__ = ["ADAPTER_ATTRIBUTE", "ExecResult", "Params"]

Params: TypeAlias = Sequence[Any]
"""Positional values for the query's ``$1``, ``$2``..."""

#: The attribute of a psycopg connection that caches its `Conn`/`AsyncConn` adapter.
ADAPTER_ATTRIBUTE = "_codex_db_dbtx"


class ExecResult(msgspec.Struct, frozen=True, gc=False):
    """The outcome of an ``:execresult`` query: affected rows and the command tag."""

    rowcount: int
    status: str | None
