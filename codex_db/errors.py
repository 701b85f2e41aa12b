"""codex-db's own errors.

Database errors stay psycopg's: catch ``psycopg.errors.UniqueViolation`` and
friends, or use the helpers in this module. Our own failures form a small tree
under `CodexDBError`; where a failure is a database-level one, the class also
subclasses the matching psycopg class. `PendingMigrationsError` is the one that
replaces a server error: a generated query's ``UndefinedColumn`` (and the like)
when migrations are pending, still an instance of psycopg's class.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import psycopg
import psycopg_pool
from psycopg import errors as pg_errors

from codex_db._error_base import CodexDBError

__all__ = [
    "CodexDBError",
    "ConfigError",
    "CopyDataError",
    "DatabaseConnectionError",
    "DeadlineExceededError",
    "MigrationError",
    "PendingMigrationsError",
    "PoolExhaustedError",
    "ServerError",
    "TransactionNotSupportedError",
    "find_database_error",
    "get_constraint_name",
    "get_error_detail",
    "is_check_violation",
    "is_foreign_key_violation",
    "is_not_null_violation",
    "is_unique_violation",
]

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
# PostgreSQL 18 reports a refused ON DELETE/UPDATE RESTRICT as restrict_violation;
# earlier versions report it as 23503. Both mean "still referenced".
_RESTRICT_VIOLATION = "23001"
_NOT_NULL_VIOLATION = "23502"
_CHECK_VIOLATION = "23514"


class ConfigError(CodexDBError):
    """The configuration (environment variables or arguments) is invalid.

    The message names the variable or argument and how to fix it.
    """

    __module__ = "codex_db"


class ServerError(CodexDBError, psycopg.OperationalError):
    """The embedded PostgreSQL server could not be started or reached."""

    __module__ = "codex_db"


class MigrationError(CodexDBError):
    """Migrations could not be read, applied or rolled back."""

    __module__ = "codex_db"


class DatabaseConnectionError(CodexDBError, psycopg.OperationalError):
    """The configured database could not be reached (see `codex_db.test_db_connection()`).

    The message carries the redacted URL and the environment variable to check.
    """

    __module__ = "codex_db"


class DeadlineExceededError(CodexDBError, psycopg.errors.QueryCanceled):
    """A call (or transaction) ran past its client-side deadline; its connection was discarded.

    Raised within the deadline plus a few milliseconds, whatever the network does
    (a silent connection included). The statement may or may not have run: a
    cancel request is sent to the server in the background. A subclass of
    `psycopg.errors.QueryCanceled`, which ``statement_timeout`` raises. See
    `codex_db.deadline()` and the ``deadline`` options of the clients and
    ``transaction()``.
    """

    __module__ = "codex_db"


class TransactionNotSupportedError(CodexDBError, psycopg.NotSupportedError):
    """``transaction()`` was called on the autocommit client: use ``db_ws.transaction()``."""

    __module__ = "codex_db"


class PoolExhaustedError(CodexDBError, psycopg_pool.PoolTimeout):
    """No pooled connection became free in time.

    The message says how many connections are in use, the maximum and the
    timeout. Raise ``max_size`` or ``pool_timeout`` in `codex_db.Settings`, or
    hold connections (transactions) for less time.
    """

    __module__ = "codex_db"


class CopyDataError(CodexDBError, psycopg.DataError):
    """A row given to a ``:copyfrom`` function has a value its column's type cannot take.

    Raised by binary COPY before the value reaches the server, for example a naive
    `datetime` for a ``timestamptz`` column or an int out of ``int4``'s range. The
    message names the query, the column and the fix; the original error is the
    ``__cause__``. The COPY is aborted, so none of the rows are written (inside a
    transaction, the transaction is aborted, as by any failed statement).
    """

    __module__ = "codex_db"


class PendingMigrationsError(CodexDBError, psycopg.ProgrammingError):
    """A generated query needs what a pending migration creates: the database is behind the code.

    Raised in place of psycopg's ``UndefinedTable``, ``UndefinedColumn``,
    ``UndefinedFunction`` or ``UndefinedObject`` (``relation "users" does not
    exist``) when the database has migrations pending, typically because new code
    was deployed before its migration. The fix is ``codex-db migrate``; migrate
    before deploying the code that needs it. The message names the query (its sqlc
    name, e.g. ``GetUser``), the server's message, how many migrations are pending
    and the first few; `query_name` and `pending` carry them.

    Each instance is also of psycopg's class (`PendingMigrationsError.UndefinedColumn`
    is a ``psycopg.errors.UndefinedColumn``), with its ``sqlstate`` and ``diag``, so
    existing ``except`` clauses still catch it; the original error is the ``__cause__``.
    """

    __module__ = "codex_db"

    UndefinedTable: ClassVar[type[PendingMigrationsError]]
    UndefinedColumn: ClassVar[type[PendingMigrationsError]]
    UndefinedFunction: ClassVar[type[PendingMigrationsError]]
    UndefinedObject: ClassVar[type[PendingMigrationsError]]

    query_name: str = ""
    """The sqlc name of the query that failed (``GetUser``)."""
    pending: tuple[str, ...] = ()
    """The ids of the pending migrations, in the order ``codex-db migrate`` runs them."""

    @classmethod
    def of(
        cls,
        error: psycopg.Error,
        message: str,
        query_name: str,
        pending: Sequence[str],
        encoding: str = "utf-8",
    ) -> PendingMigrationsError:
        """The error to raise for *error*: of its psycopg class, with its diagnostics and cause."""
        variant = next((v for base, v in _PENDING_VARIANTS if isinstance(error, base)), cls)
        raised = variant(message, info=error.pgresult, encoding=encoding, pgconn=error.pgconn)
        raised.query_name = query_name
        raised.pending = tuple(pending)
        raised.__cause__ = error
        return raised


class _UndefinedTablePendingError(PendingMigrationsError, pg_errors.UndefinedTable):
    __module__ = "codex_db"
    __qualname__ = "PendingMigrationsError.UndefinedTable"


class _UndefinedColumnPendingError(PendingMigrationsError, pg_errors.UndefinedColumn):
    __module__ = "codex_db"
    __qualname__ = "PendingMigrationsError.UndefinedColumn"


class _UndefinedFunctionPendingError(PendingMigrationsError, pg_errors.UndefinedFunction):
    __module__ = "codex_db"
    __qualname__ = "PendingMigrationsError.UndefinedFunction"


class _UndefinedObjectPendingError(PendingMigrationsError, pg_errors.UndefinedObject):
    __module__ = "codex_db"
    __qualname__ = "PendingMigrationsError.UndefinedObject"


PendingMigrationsError.UndefinedTable = _UndefinedTablePendingError
PendingMigrationsError.UndefinedColumn = _UndefinedColumnPendingError
PendingMigrationsError.UndefinedFunction = _UndefinedFunctionPendingError
PendingMigrationsError.UndefinedObject = _UndefinedObjectPendingError

#: psycopg's class -> the `PendingMigrationsError` raised in its place.
_PENDING_VARIANTS: tuple[tuple[type[psycopg.Error], type[PendingMigrationsError]], ...] = (
    (pg_errors.UndefinedTable, _UndefinedTablePendingError),
    (pg_errors.UndefinedColumn, _UndefinedColumnPendingError),
    (pg_errors.UndefinedFunction, _UndefinedFunctionPendingError),
    (pg_errors.UndefinedObject, _UndefinedObjectPendingError),
)


def find_database_error(error: object) -> psycopg.Error | None:
    """The first psycopg error with a SQLSTATE in *error* and its causes, else ``None``.

    Follows ``__cause__`` and ``__context__``, so it finds the database error
    inside an application exception raised ``from`` it (or while handling it).
    """
    for exc in _chain(error):
        if isinstance(exc, psycopg.Error) and exc.sqlstate:
            return exc
    return None


def is_unique_violation(error: object) -> bool:
    """Whether *error* is (or wraps) a unique violation (SQLSTATE 23505): a duplicate key."""
    return _sqlstate(error) == _UNIQUE_VIOLATION


def is_foreign_key_violation(error: object) -> bool:
    """Whether *error* is (or wraps) a foreign key violation.

    That is 23503 (a referenced row is absent, or is still referenced), and
    23001, which PostgreSQL 18 raises when an ``ON DELETE RESTRICT`` key refuses
    to delete a row that is still referenced.
    """
    return _sqlstate(error) in (_FOREIGN_KEY_VIOLATION, _RESTRICT_VIOLATION)


def is_not_null_violation(error: object) -> bool:
    """Whether *error* is (or wraps) a not-null violation (23502): a required value is missing."""
    return _sqlstate(error) == _NOT_NULL_VIOLATION


def is_check_violation(error: object) -> bool:
    """Whether *error* is (or wraps) a check violation (23514): a value outside its allowed set."""
    return _sqlstate(error) == _CHECK_VIOLATION


def get_constraint_name(error: object) -> str | None:
    """The name of the violated constraint (e.g. ``users_email_unique``), else ``None``."""
    found = find_database_error(error)
    return found.diag.constraint_name if found else None


def get_error_detail(error: object) -> str | None:
    """PostgreSQL's DETAIL line (e.g. ``Key (email)=(a@b.c) already exists.``), else ``None``."""
    found = find_database_error(error)
    return found.diag.message_detail if found else None


def _sqlstate(error: object) -> str | None:
    found = find_database_error(error)
    return found.sqlstate if found else None


def _chain(error: object) -> Iterator[BaseException]:
    seen: set[int] = set()
    exc = error if isinstance(error, BaseException) else None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
