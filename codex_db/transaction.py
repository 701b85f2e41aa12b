"""Transaction blocks: commit on success, roll back on error, savepoints when nested."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, LiteralString, NoReturn, TypeVar

import msgspec
import psycopg
from psycopg import IsolationLevel

from codex_db._pool import Connection, is_idle
from codex_db._statements import Statements
from codex_db.dbtx import Conn, ExecResult, Params

__all__ = ["IsolationLevel", "Rollback", "Transaction", "TransactionOptions", "open_block"]

T = TypeVar("T")


class Rollback(Exception):  # noqa: N818 - named like psycopg.Rollback, not an error
    """Raise it to leave a transaction block and roll it back, without an error.

    ``raise Rollback()`` rolls back the innermost block; ``raise Rollback(tx)``
    rolls back up to the block that produced *tx*.
    """

    __module__ = "codex_db"

    def __init__(self, transaction: Transaction | None = None) -> None:
        super().__init__(transaction)
        self.transaction = transaction


class TransactionOptions(msgspec.Struct, frozen=True):
    """``BEGIN`` options of an outermost transaction (a savepoint takes none)."""

    isolation_level: IsolationLevel | None = None
    read_only: bool | None = None
    deferrable: bool | None = None


class Transaction(Statements):
    """An open transaction: pass it to generated query functions as their first argument.

    Get one from ``with db_ws.transaction() as tx:``. Statements run on the
    transaction's connection. ``with tx.transaction():`` opens a savepoint:
    an exception leaving it rolls back only the savepoint's work. Raise
    `Rollback` (or ``Rollback(tx)`` for an outer block) to leave a block and
    roll it back without an error.
    """

    __slots__ = ("_block", "_dbtx", "connection")

    def __init__(self, connection: Connection, block: psycopg.Transaction) -> None:
        self.connection = connection
        """The psycopg connection, for what the API does not cover (``cursor()``, LISTEN)."""
        self._block = block
        self._dbtx = Conn.of(connection)

    def __repr__(self) -> str:
        info = self.connection.info
        kind = "savepoint" if self._block.savepoint_name else "transaction"
        return f"<codex_db.Transaction {kind} on {info.host}:{info.port}/{info.dbname}>"

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A savepoint inside this transaction, as a nested `Transaction`."""
        return open_block(self.connection)

    def _statement(self) -> AbstractContextManager[Connection]:
        if isinstance(self._dbtx, _Ended):
            self._dbtx.fail()
        return nullcontext(self.connection)

    def _end(self) -> None:
        # The connection may already serve someone else: refuse further calls.
        self._dbtx = _Ended()  # type: ignore[assignment]

    # DBTX: what generated query functions call, on the transaction's connection.

    def fetch_one(self, query: LiteralString, params: Params, make: Callable[..., T]) -> T | None:
        """The first row built with ``make(*cells)``, or ``None`` (`codex_db.dbtx.DBTX`)."""
        return self._dbtx.fetch_one(query, params, make)

    def fetch_all(self, query: LiteralString, params: Params, make: Callable[..., T]) -> list[T]:
        """Every row, built with ``make(*cells)`` (`codex_db.dbtx.DBTX`)."""
        return self._dbtx.fetch_all(query, params, make)

    def stream(
        self, query: LiteralString, params: Params, make: Callable[..., T]
    ) -> Generator[T, None, None]:
        """Rows as they arrive; exhaust or ``close()`` the generator before the next query."""
        return self._dbtx.stream(query, params, make)

    def execute(self, query: LiteralString, params: Params) -> int:
        """Run a statement; return the number of rows affected (`codex_db.dbtx.DBTX`)."""
        return self._dbtx.execute(query, params)

    def execute_result(self, query: LiteralString, params: Params) -> ExecResult:
        """Run a statement; return the row count and command tag (`codex_db.dbtx.DBTX`)."""
        return self._dbtx.execute_result(query, params)

    def copy_rows(self, statement: LiteralString, rows: Iterable[Sequence[Any]]) -> int:
        """``COPY ... FROM STDIN`` the rows; return how many were copied (`codex_db.dbtx.DBTX`)."""
        return self._dbtx.copy_rows(statement, rows)


class _Ended:
    """Stands in for the adapter of a transaction whose block has ended."""

    def fail(self) -> NoReturn:
        raise psycopg.ProgrammingError(
            "this transaction block has ended: run statements inside"
            " `with db_ws.transaction() as tx:`, or on db_ws itself"
        )

    def __getattr__(self, name: str) -> Any:
        self.fail()


@contextmanager
def open_block(
    conn: Connection, options: TransactionOptions | None = None
) -> Iterator[Transaction]:
    """Run a transaction block on *conn*: a transaction if it is idle, else a savepoint."""
    with _options_applied(conn, options), conn.transaction() as block:
        tx = Transaction(conn, block)
        try:
            yield tx
        except Rollback as exc:
            if exc.transaction not in (None, tx):
                raise
            raise psycopg.Rollback(block) from None
        finally:
            tx._end()


@contextmanager
def _options_applied(conn: Connection, options: TransactionOptions | None) -> Iterator[None]:
    """Set BEGIN options on *conn* for one block, and restore them after.

    psycopg builds ``BEGIN ISOLATION LEVEL ... READ ONLY`` from the connection's
    attributes, so this costs no round trip; restoring them keeps pooled
    connections clean. A savepoint takes no options.
    """
    if options is None or not is_idle(conn):
        yield
        return
    saved: dict[str, Any] = {
        "isolation_level": conn.isolation_level,
        "read_only": conn.read_only,
        "deferrable": conn.deferrable,
    }
    conn.isolation_level = options.isolation_level
    conn.read_only = options.read_only
    conn.deferrable = options.deferrable
    try:
        yield
    finally:
        if is_idle(conn):
            for name, value in saved.items():
                setattr(conn, name, value)
