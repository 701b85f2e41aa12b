"""Ad-hoc statements (``query``/``query_one``/``run``) shared by clients and transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, overload

import psycopg
from psycopg import sql
from psycopg.rows import AsyncRowFactory

__all__ = ["AsyncStatements", "Params", "Query"]

R = TypeVar("R")

#: Parameters of an ad-hoc statement: a sequence for ``%s``, a mapping for ``%(name)s``.
Params = Sequence[Any] | Mapping[str, Any]

#: SQL text, or a composition built with `psycopg.sql` (re-exported as ``codex_db.sql``).
Query = str | bytes | sql.SQL | sql.Composed

_Conn = psycopg.AsyncConnection[tuple[Any, ...]]


class AsyncStatements:
    """Run hand-written SQL: a string or a `psycopg.sql` composition, with ``%s`` parameters.

    Use it for one-off statements that have no generated function (admin
    tasks, ``sql.SQL`` with dynamic identifiers). Values always go in *params*,
    never into the SQL text. Generated query functions are faster: they run
    prepared statements on one cursor per connection.
    """

    __slots__ = ()

    def _statement(self) -> AbstractAsyncContextManager[_Conn]:
        raise NotImplementedError

    @overload
    async def query(self, query: Query, params: Params | None = None) -> list[tuple[Any, ...]]: ...
    @overload
    async def query(
        self, query: Query, params: Params | None = None, *, row_factory: AsyncRowFactory[R]
    ) -> list[R]: ...
    async def query(
        self,
        query: Query,
        params: Params | None = None,
        *,
        row_factory: AsyncRowFactory[Any] | None = None,
    ) -> list[Any]:
        """Run *query* and return every row (tuples, or what *row_factory* builds)."""
        async with self._statement() as conn, _cursor(conn, row_factory) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    @overload
    async def query_one(
        self, query: Query, params: Params | None = None
    ) -> tuple[Any, ...] | None: ...
    @overload
    async def query_one(
        self, query: Query, params: Params | None = None, *, row_factory: AsyncRowFactory[R]
    ) -> R | None: ...
    async def query_one(
        self,
        query: Query,
        params: Params | None = None,
        *,
        row_factory: AsyncRowFactory[Any] | None = None,
    ) -> Any:
        """Run *query* and return its first row, or ``None`` when there is none."""
        async with self._statement() as conn, _cursor(conn, row_factory) as cur:
            await cur.execute(query, params)
            return await cur.fetchone()

    async def run(self, query: Query, params: Params | None = None) -> int:
        """Run a statement that returns no rows; return the number of rows it affected."""
        async with self._statement() as conn, conn.cursor() as cur:
            await cur.execute(query, params)
            return cur.rowcount


def _cursor(conn: _Conn, row_factory: AsyncRowFactory[Any] | None) -> psycopg.AsyncCursor[Any]:
    return conn.cursor(row_factory=row_factory) if row_factory else conn.cursor()
