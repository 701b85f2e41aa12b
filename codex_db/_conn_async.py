"""`AsyncConn`: the `codex_db.dbtx.AsyncDBTX` protocol on a psycopg connection.

This is the hot path of every generated query function. The adapter holds one
`psycopg.AsyncRawCursor` per connection (sqlc's ``$1`` placeholders need no
rewriting), fetches plain tuples and builds rows with ``make(*cells)``.
Preparation is left to the connection's ``prepare_threshold`` (``None`` behind
PgBouncer in transaction mode), but for statements with an optional filter
``($1 IS NULL OR ...)``, which are never prepared (`codex_db._preparation`).
psycopg errors propagate unchanged, but for two:
`copy_rows` with ``types`` turns a value its column cannot take into
`CopyDataError`, and a generated query whose table, column, function or type does
not exist raises `PendingMigrationsError` when migrations are pending
(`codex_db._pending_async.raise_if_behind`; the check runs on that error path only).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from itertools import starmap
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncCopy, AsyncRawCursor
from psycopg.rows import TupleRow, tuple_row

from codex_db._copy import COPY_DUMPERS, copy_data_error
from codex_db._dbtx_base import ADAPTER_ATTRIBUTE, ExecResult, Params
from codex_db._gc import no_gc
from codex_db._pending_async import raise_if_behind
from codex_db._pending_base import UNDEFINED
from codex_db._preparation import PREPARE
from codex_db.observe import observed
from codex_db.observe import state as _observe

__all__ = ["AsyncConn"]

T = TypeVar("T")


class AsyncConn:
    """`AsyncDBTX` on a psycopg connection. Get it with `AsyncConn.of` rather than building one.

    Like the connection, it is not meant for concurrent use by several tasks or threads.
    """

    __slots__ = ("_cursor", "connection")

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self._cursor: AsyncRawCursor[TupleRow] = AsyncRawCursor(connection, row_factory=tuple_row)
        for dumper in COPY_DUMPERS:  # by type name only: used by copy_rows(types=...)
            self._cursor.adapters.register_dumper(None, dumper)

    @classmethod
    def of(cls, connection: psycopg.AsyncConnection[Any]) -> AsyncConn:
        """The adapter of *connection*, created on first use and cached on it."""
        adapter: AsyncConn | None = getattr(connection, ADAPTER_ATTRIBUTE, None)
        if adapter is None:
            adapter = cls(connection)
            setattr(connection, ADAPTER_ATTRIBUTE, adapter)
        return adapter

    async def fetch_one(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> T | None:
        """The first row built with ``make(*cells)``, or None when there is none."""
        try:
            if _observe.on:
                with observed(self.connection, query):
                    cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
            else:
                cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, query, exc)
            raise
        row = await cursor.fetchone()
        return None if row is None else make(*row)

    async def fetch_all(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> list[T]:
        """Every row, built with ``make(*cells)``."""
        try:
            if _observe.on:
                with observed(self.connection, query):
                    cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
            else:
                cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, query, exc)
            raise
        with no_gc:  # the rows are all alive: no collector passes over them (`codex_db._gc`)
            return list(starmap(make, await cursor.fetchall()))

    async def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> AsyncGenerator[T, None]:
        """Rows as the server sends them (single-row mode), on a cursor of their own."""
        try:
            async with (
                observed(self.connection, query),
                AsyncRawCursor(self.connection, row_factory=tuple_row) as cursor,
            ):
                async for row in cursor.stream(query, params):
                    yield make(*row)
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, query, exc)
            raise

    async def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected."""
        try:
            if _observe.on:
                with observed(self.connection, query):
                    cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
            else:
                cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, query, exc)
            raise
        return cursor.rowcount

    async def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and the command tag."""
        try:
            if _observe.on:
                with observed(self.connection, query):
                    cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
            else:
                cursor = await self._cursor.execute(query, params, prepare=PREPARE[query])
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, query, exc)
            raise
        return ExecResult(cursor.rowcount, cursor.statusmessage)

    async def copy_rows(
        self,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        *,
        types: Sequence[str] | None = None,
    ) -> int:
        """``COPY ... FROM STDIN`` the rows; return the number copied.

        *types* names each column's type as ``Copy.set_types`` takes them (``"int4"``,
        ``"jsonb"``, ``"uuid[]"``): values are then dumped by column type, which a binary
        COPY (``FROM STDIN (FORMAT BINARY)``) needs. Without them values are dumped by
        Python type, for a text COPY. A value its column cannot take raises
        `CopyDataError` naming the column; an error aborts the COPY, so no row is written.
        """
        try:
            async with observed(self.connection, statement), self._cursor.copy(statement) as copy:
                await self._write_rows(copy, statement, rows, types)
        except UNDEFINED as exc:
            await raise_if_behind(self.connection, statement, exc)
            raise
        return self._cursor.rowcount

    async def _write_rows(
        self,
        copy: AsyncCopy,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        types: Sequence[str] | None,
    ) -> None:
        row: Sequence[Any] = ()
        if types is not None:
            copy.set_types(types)
        try:
            for row in rows:
                await copy.write_row(row)
        except Exception as exc:
            if types is not None and not getattr(exc, "sqlstate", None):
                format = copy.formatter.format
                error = copy_data_error(statement, types, row, self._cursor, format)
                if error is not None:
                    raise error from exc
            raise
