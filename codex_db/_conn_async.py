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

``fetch_one`` and ``fetch_all`` with parameters take a leaner path than the cursor
(`AsyncConn._run`): the parameters are dumped by the adapter's `Transformer` (the
cursor's adapters), the statement is sent with ``PGconn.send_query_prepared`` /
``send_query_params``, its result waited for through ``connection.wait()`` (so the
deadline and cancellation rules of `codex_db._deadline` hold) and its rows loaded by
the same `Transformer`. That skips psycopg's cursor bookkeeping, about a third of the
client CPU of a get by id. Preparation goes through the connection's own
prepared-statement cache (psycopg's ``conn._prepared``, the one private psycopg API
used here; psycopg is pinned to 3.3): a cache of our own would lose its statements
to the ``DEALLOCATE ALL`` psycopg sends after a ``ROLLBACK`` run on one of its
cursors. So ``prepare_threshold``, ``prepared_max``, `codex_db._preparation.PREPARE`
and the pooler rules hold unchanged. Everything else takes the cursor: calls without
parameters (which may hold several statements), and a connection in pipeline mode,
busy, closed, about to begin a transaction itself (not autocommit) or whose client
encoding is not UTF-8. Tracing and the slow-query log wrap both paths alike.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from itertools import starmap
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncCopy, AsyncRawCursor, pq
from psycopg._preparing import Prepare  # the connection's prepared-statement cache
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from psycopg.generators import execute as _execute
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

_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_IDLE = pq.TransactionStatus.IDLE
_INTRANS = pq.TransactionStatus.INTRANS
_INERROR = pq.TransactionStatus.INERROR
_CONN_OK = pq.ConnStatus.OK
_PIPELINE_OFF = pq.PipelineStatus.OFF
_NO = Prepare.NO
_SHOULD = Prepare.SHOULD
#: ``[PyFormat.AUTO] * n`` by n: what psycopg's ``$n`` queries dump their parameters as.
_FORMATS: list[list[PyFormat]] = [[PyFormat.AUTO] * n for n in range(64)]
#: Query text -> its bytes (UTF-8: the lean path runs on UTF-8 connections only).
_QUERY_BYTES: dict[str, bytes] = {}
#: At most this many texts are kept: generated queries are constants, but ad-hoc SQL
#: built at run time would otherwise grow the cache without end.
_MAX_QUERY_BYTES = 4096


class AsyncConn:
    """`AsyncDBTX` on a psycopg connection. Get it with `AsyncConn.of` rather than building one.

    Like the connection, it is not meant for concurrent use by several tasks or threads.
    """

    __slots__ = ("_cursor", "_lean", "_tx", "connection")

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self._cursor: AsyncRawCursor[TupleRow] = AsyncRawCursor(connection, row_factory=tuple_row)
        for dumper in COPY_DUMPERS:  # by type name only: used by copy_rows(types=...)
            self._cursor.adapters.register_dumper(None, dumper)
        self._tx = Transformer(self._cursor)
        self._lean = connection.info.encoding == "utf-8"

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
        if params and self._leanable():
            try:
                if _observe.on:
                    with observed(self.connection, query):
                        result = await self._run(query, params)
                else:
                    result = await self._run(query, params)
            except UNDEFINED as exc:
                await raise_if_behind(self.connection, query, exc)
                raise
            return make(*self._tx.load_row(0, tuple)) if result.ntuples else None
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
        if params and self._leanable():
            try:
                if _observe.on:
                    with observed(self.connection, query):
                        result = await self._run(query, params)
                else:
                    result = await self._run(query, params)
            except UNDEFINED as exc:
                await raise_if_behind(self.connection, query, exc)
                raise
            with no_gc:  # the rows are all alive: no collector passes over them (`codex_db._gc`)
                return list(starmap(make, self._tx.load_rows(0, result.ntuples, tuple)))
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

    def _leanable(self) -> bool:
        """Whether the connection is in a state `_run` handles exactly as the cursor would."""
        conn = self.connection
        pgconn = conn.pgconn
        if not self._lean or pgconn.status != _CONN_OK or pgconn.pipeline_status != _PIPELINE_OFF:
            return False
        status = pgconn.transaction_status
        if status == _IDLE:
            return conn.autocommit  # otherwise psycopg sends BEGIN first: the cursor does
        return status in (_INTRANS, _INERROR)

    async def _run(self, query: LiteralString, params: Params) -> pq.abc.PGresult:
        """Send *query* with *params*, prepared or not as the cursor would; its rows' result.

        The steps of psycopg's ``_maybe_prepare_gen`` outside pipeline mode, on the
        connection's own prepared-statement cache (`_Query`). The result is set on `_tx`,
        ready for ``load_row``/``load_rows``; an error result raises its psycopg error.
        """
        conn, tx = self.connection, self._tx
        sql = _QUERY_BYTES.get(query)
        if sql is None:
            sql = query.encode()
            if len(_QUERY_BYTES) < _MAX_QUERY_BYTES:
                _QUERY_BYTES[query] = sql
        pgq = _Query(sql, tx.dump_sequence(params, _FORMATS[len(params)]), tx.types)
        manager = conn._prepared
        async with conn.lock:
            pgconn = conn.pgconn
            prep, name = manager.get(pgq, PREPARE[query])  # type: ignore[arg-type]
            if prep is _NO:
                pgconn.send_query_params(
                    sql, pgq.params, param_formats=tx.formats, param_types=pgq.types
                )
            else:
                if prep is _SHOULD:
                    pgconn.send_prepare(name, sql, param_types=pgq.types)
                    for prepared in await conn.wait(_execute(pgconn)):
                        if prepared.status == _FATAL_ERROR:
                            raise error_from_result(prepared)
                pgconn.send_query_prepared(name, pgq.params, param_formats=tx.formats)
            key = manager.maybe_add_to_cache(pgq, prep, name)  # type: ignore[arg-type]
            results: list[pq.abc.PGresult] = await conn.wait(_execute(pgconn))
            if key is not None:
                manager.validate(key, prep, name, results)
            if manager._to_flush:  # evicted past prepared_max, or DEALLOCATE ALL due
                await conn.wait(manager.maintain_gen(conn))
        result = results[-1]
        if result.status != _TUPLES_OK or len(results) != 1:
            _raise_for(result)
        tx.set_pgresult(result)  # loaders by this result's column types, as the cursor does
        return result

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


def _raise_for(result: pq.abc.PGresult) -> Any:
    """Raise what psycopg's cursor raises for *result*, which holds no rows to fetch."""
    if result.status == _FATAL_ERROR:
        raise error_from_result(result)
    command = result.command_status
    detail = (
        f" (command status: {command.decode()})"
        if command
        else f" (result status: {pq.ExecStatus(result.status).name})"
    )
    raise psycopg.ProgrammingError(f"the last operation didn't produce records{detail}")


class _Query:
    """What psycopg's prepared-statement cache reads of a query (``PostgresQuery``'s
    ``query``, ``params`` and ``types``): `AsyncConn._run` shares the connection's cache
    with its cursors, so a name is never prepared twice and psycopg's own upkeep (evicting
    past ``prepared_max``, ``DEALLOCATE ALL`` after a ``ROLLBACK``, ``DROP`` or ``ALTER``)
    covers these statements too."""

    __slots__ = ("params", "query", "types")

    def __init__(self, query: bytes, params: Any, types: Any) -> None:
        self.query = query
        self.params = params
        self.types = types
