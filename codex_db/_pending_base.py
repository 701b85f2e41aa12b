"""Pending migrations as the runtime sees them: the one rule, and how an error tells it.

A migration is pending when its id is in the migrations folder
(`codex_db.project.Project.migration_ids`) and not in yoyo's
``_yoyo_migration`` table (`pending_ids`). The folder is the one ``codex-db
migrate`` applies by default: the project around the current directory, else the
package's own copy (`Project.default`), so the command an error names applies
exactly the migrations it counted.

The runtime asks only when something already failed (a generated query whose
table, column, function or type does not exist: `UNDEFINED`) and in
`test_db_connection()`; it reads the table itself (`codex_db._pending_async`)
because the runtime never imports `codex_db.migrate` (and yoyo). Answers are
remembered for `MEMO_SECONDS`, so a deploy that breaks every query of a table does
not also run a check per failed query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Sequence
from typing import Any, TypeAlias

import psycopg
from psycopg import errors as pg_errors

from codex_db.errors import PendingMigrationsError
from codex_db.project import Project

__all__ = [
    "CHECK_TIMEOUT",
    "MEMO",
    "MEMO_SECONDS",
    "UNDEFINED",
    "Memo",
    "available_ids",
    "behind_error",
    "describe",
    "forget",
    "pending_ids",
    "query_name",
]

#: What a database behind the code raises for a generated query: a relation, column,
#: function (or operator) or type that a pending migration would create.
UNDEFINED: tuple[type[psycopg.errors.ProgrammingError], ...] = (
    pg_errors.UndefinedTable,
    pg_errors.UndefinedColumn,
    pg_errors.UndefinedFunction,
    pg_errors.UndefinedObject,
)

#: Seconds the check may take: to connect (libpq's minimum is 2) and to run.
CHECK_TIMEOUT = 3
#: Seconds an answer is remembered for, per database and migrations folder.
MEMO_SECONDS = 5.0
#: How many pending ids a message lists.
_LISTED = 3
_NAME_LINE = "-- name: "

#: (host, port, dbname, user, migrations folder): one database, as one role sees it from one
#: folder (a role that may not read ``_yoyo_migration`` gets no answer).
MemoKey: TypeAlias = tuple[str, int, str, str, str]


def pending_ids(available: Iterable[str], applied: Collection[str]) -> list[str]:
    """The ids of *available* (the folder's, in file order) not in *applied* (the database's)."""
    return [mid for mid in available if mid not in applied]


def available_ids() -> tuple[str, list[str]] | None:
    """The migrations folder ``codex-db migrate`` would use, and its ids; None without one."""
    project = Project.default()
    if not project.migrations.is_dir():
        return None
    return str(project.migrations), project.migration_ids()


def describe(pending: Sequence[str]) -> str:
    """``2 migrations pending: run `codex-db migrate` (0007.a, 0008.b)``: the fix, and ids."""
    count = len(pending)
    listed = ", ".join(pending[:_LISTED])
    if count > _LISTED:
        listed += f" and {count - _LISTED} more"
    noun = "migration" if count == 1 else "migrations"
    return f"{count} {noun} pending: run `codex-db migrate` ({listed})"


def query_name(query: str) -> str | None:
    """The sqlc name of a generated query (``GetUser``, from its ``-- name:`` line), else None."""
    if not query.startswith(_NAME_LINE):
        return None
    words = query[len(_NAME_LINE) :].split(None, 1)
    return words[0] if words else None


def behind_error(
    error: psycopg.Error, name: str, pending: Sequence[str] | None, encoding: str
) -> PendingMigrationsError | None:
    """The `PendingMigrationsError` generated query *name*'s *error* becomes, if any.

    None when no migration is pending (*error* then gets a note: the database
    differs from what its migrations build) or when that is unknown (``None``: the
    check failed), and *error* stands as it is.
    """
    if pending is None:
        return None
    if not pending:
        error.add_note(
            f"{name}: no migration is pending, yet the database lacks what this query needs:"
            " it differs from what its migrations build (changed by hand, or migrated from"
            " another folder); `codex-db check` compares them"
        )
        return None
    primary = error.diag.message_primary or str(error).split("\n", 1)[0]
    message = f"{name}: {primary}: the database is behind the code, {describe(pending)}"
    return PendingMigrationsError.of(error, message, name, pending, encoding)


class Memo:
    """Recent answers (pending ids, or None for unknown), each kept for `MEMO_SECONDS`."""

    def __init__(self, seconds: float = MEMO_SECONDS) -> None:
        self._seconds = seconds
        self._answers: dict[MemoKey, tuple[float, list[str] | None]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(info: Any, folder: str) -> MemoKey:
        """The key of the database of *info* (a psycopg ``ConnectionInfo``) seen from *folder*."""
        return (str(info.host), int(info.port), str(info.dbname), str(info.user), folder)

    def get(self, key: MemoKey) -> tuple[bool, list[str] | None]:
        """``(True, answer)`` when *key* was answered recently, else ``(False, None)``."""
        with self._lock:
            found = self._answers.get(key)
        if found is None or found[0] < time.monotonic():
            return False, None
        return True, found[1]

    def put(self, key: MemoKey, answer: list[str] | None) -> None:
        """Remember *answer* for *key*."""
        with self._lock:
            self._answers[key] = (time.monotonic() + self._seconds, answer)

    def clear(self) -> None:
        """Forget every answer (after migrating, in tests)."""
        with self._lock:
            self._answers.clear()


#: The answers of this process, shared by the sync and async checks.
MEMO = Memo()


def forget() -> None:
    """Forget remembered answers (call it after migrating, e.g. in a test that then fails again)."""
    MEMO.clear()
