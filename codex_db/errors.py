"""codex-db's own errors.

Database errors stay psycopg's: catch ``psycopg.errors.UniqueViolation`` and
friends, or use the helpers in this module. Our own failures form a small tree
under `CodexDBError`; where a failure is a database-level one, the class also
subclasses the matching psycopg class.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import psycopg_pool

from codex_db._error_base import CodexDBError

__all__ = [
    "CodexDBError",
    "ConfigError",
    "CopyDataError",
    "DatabaseConnectionError",
    "DeadlineExceededError",
    "MigrationError",
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
