"""Transaction blocks: commit on success, roll back on error, savepoints when nested."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, LiteralString, TypeVar

import psycopg

from codex_db._conn_async import AsyncConn
from codex_db._dbtx_base import ExecResult, Params
from codex_db._deadline import tighten
from codex_db._pool_async import AsyncConnection, is_idle
from codex_db._statements_async import AsyncStatements
from codex_db._transaction_base import (
    Ended,
    IsolationLevel,
    Rollback,
    TransactionOptions,
    set_local_query,
)

__all__ = ["AsyncTransaction", "IsolationLevel", "Rollback", "TransactionOptions", "open_block"]

T = TypeVar("T")


class AsyncTransaction(AsyncStatements):
    """An open transaction: pass it to generated query functions as their first argument.

    Get one from ``with db_ws.transaction() as tx:``. Statements run on the
    transaction's connection. ``with tx.transaction():`` opens a savepoint:
    an exception leaving it rolls back only the savepoint's work. Raise
    `Rollback` (or ``Rollback(tx)`` for an outer block) to leave a block and
    roll it back without an error.
    """

    __slots__ = ("_block", "_dbtx", "connection")

    def __init__(self, connection: AsyncConnection, block: psycopg.AsyncTransaction) -> None:
        self.connection = connection
        """The psycopg connection, for what the API does not cover (``cursor()``, COPY)."""
        self._block = block
        self._dbtx = AsyncConn.of(connection)

    def __repr__(self) -> str:
        info = self.connection.info
        kind = "savepoint" if self._block.savepoint_name else "transaction"
        return f"<codex_db.AsyncTransaction {kind} on {info.host}:{info.port}/{info.dbname}>"

    def transaction(self) -> AbstractAsyncContextManager[AsyncTransaction]:
        """A savepoint inside this transaction, as a nested `AsyncTransaction`."""
        return open_block(self.connection)

    def _statement(self) -> AbstractAsyncContextManager[AsyncConnection]:
        if isinstance(self._dbtx, Ended):
            self._dbtx.fail()
        return nullcontext(self.connection)

    def _end(self) -> None:
        # The connection may already serve someone else: refuse further calls.
        self._dbtx = Ended()  # type: ignore[assignment]

    # DBTX: what generated query functions call, on the transaction's connection.

    async def fetch_one(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> T | None:
        """The first row built with ``make(*cells)``, or ``None`` (`codex_db.dbtx.AsyncDBTX`)."""
        return await self._dbtx.fetch_one(query, params, make)

    async def fetch_all(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> list[T]:
        """Every row, built with ``make(*cells)`` (`codex_db.dbtx.AsyncDBTX`)."""
        return await self._dbtx.fetch_all(query, params, make)

    def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> AsyncGenerator[T, None]:
        """Rows as they arrive; exhaust or ``close()`` the generator before the next query."""
        return self._dbtx.stream(query, params, make)

    async def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected (`codex_db.dbtx.AsyncDBTX`)."""
        return await self._dbtx.execute(query, params)

    async def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and command tag (`codex_db.dbtx.AsyncDBTX`)."""
        return await self._dbtx.execute_result(query, params)

    async def copy_rows(
        self,
        statement: LiteralString,
        rows: Iterable[Sequence[Any]],
        *,
        types: Sequence[str] | None = None,
    ) -> int:
        """``COPY ... FROM STDIN`` the rows, dumped by *types* if given; return the number copied
        (`codex_db.dbtx.AsyncDBTX`).
        """
        return await self._dbtx.copy_rows(statement, rows, types=types)


def open_block(
    conn: AsyncConnection,
    options: TransactionOptions | None = None,
    defaults: Mapping[str, str] | None = None,
) -> AbstractAsyncContextManager[AsyncTransaction]:
    """Run a transaction block on *conn*: a transaction if it is idle, else a savepoint.

    *defaults* are ``SET LOCAL`` settings of the client (its statement timeout
    behind a transaction pooler); the options' timeouts override them.
    """
    outermost = is_idle(conn)
    if options is not None:
        tighten(conn, options.deadline)
    if outermost and options is not None and options.sets_begin:
        return _block_with_begin_options(conn, options, defaults)
    return _block(conn, options, defaults, outermost)


@asynccontextmanager
async def _block_with_begin_options(
    conn: AsyncConnection, options: TransactionOptions, defaults: Mapping[str, str] | None
) -> AsyncIterator[AsyncTransaction]:
    async with _options_applied(conn, options), _block(conn, options, defaults) as tx:
        yield tx


@asynccontextmanager
async def _block(
    conn: AsyncConnection,
    options: TransactionOptions | None,
    defaults: Mapping[str, str] | None,
    outermost: bool = True,
) -> AsyncIterator[AsyncTransaction]:
    async with conn.transaction() as block:
        tx = AsyncTransaction(conn, block)
        try:
            if outermost:
                await _set_local(conn, options, defaults)
            yield tx
        except Rollback as exc:
            if exc.transaction not in (None, tx):
                raise
            raise psycopg.Rollback(block) from None
        finally:
            tx._end()


async def _set_local(
    conn: AsyncConnection, options: TransactionOptions | None, defaults: Mapping[str, str] | None
) -> None:
    if not defaults and (options is None or options == _NO_OPTIONS):
        return
    settings = (options or _NO_OPTIONS).local_settings(defaults or {})
    if settings:
        query, params = set_local_query(settings)
        await conn.execute(query, params)


_NO_OPTIONS = TransactionOptions()


@asynccontextmanager
async def _options_applied(
    conn: AsyncConnection, options: TransactionOptions
) -> AsyncIterator[None]:
    """Set BEGIN options on *conn* (idle, outside any block) for one block, and restore them after.

    psycopg builds ``BEGIN ISOLATION LEVEL ... READ ONLY`` from the connection's
    attributes, so this costs no round trip; restoring them keeps pooled
    connections clean. `open_block` only calls it for an outermost block whose
    options set one of the three: a savepoint takes none, and timeouts alone leave
    the connection's attributes alone.
    """
    saved = (conn.isolation_level, conn.read_only, conn.deferrable)
    await _set_begin_options(conn, options.isolation_level, options.read_only, options.deferrable)
    try:
        yield
    finally:
        if is_idle(conn) and not conn.closed:
            await _set_begin_options(conn, *saved)


async def _set_begin_options(
    conn: AsyncConnection,
    isolation_level: IsolationLevel | None,
    read_only: bool | None,
    deferrable: bool | None,
) -> None:
    await conn.set_isolation_level(isolation_level)
    await conn.set_read_only(read_only)
    await conn.set_deferrable(deferrable)
