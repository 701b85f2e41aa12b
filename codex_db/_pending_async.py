"""Asking a database which migrations it lacks, when a query failed or a check runs.

`raise_if_behind` turns the error of a generated query whose table, column,
function or type does not exist into `codex_db.PendingMigrationsError` when
migrations are pending (the rule and the messages are `codex_db._pending_base`);
`report` logs them for `test_db_connection()`. Both run off the hot path, take
a few round trips bounded by `CHECK_TIMEOUT`, and never fail themselves: a check
that fails (no permission on ``_yoyo_migration``, server gone) leaves the
original error as it was. The check runs on the failed query's own connection
when that can still run statements (autocommit), inside a transaction or
savepoint it rolls back, so it leaves no state behind; on a fresh connection
when the failure aborted a transaction.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo
from psycopg.rows import tuple_row

from codex_db._dsn import redact
from codex_db._pending_base import (
    CHECK_TIMEOUT,
    MEMO,
    Memo,
    available_ids,
    behind_error,
    describe,
    pending_ids,
    query_name,
)

__all__ = ["pending", "raise_if_behind", "report"]

_logger = logging.getLogger("codex_db")
#: Transaction states in which the connection still runs statements.
_USABLE = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)
_GUARD = (
    "SELECT set_config('statement_timeout', %s, true), to_regclass('_yoyo_migration') IS NOT NULL"
)
_APPLIED = "SELECT migration_id FROM _yoyo_migration"


async def raise_if_behind(
    connection: psycopg.AsyncConnection[Any], query: str, error: psycopg.Error
) -> None:
    """Raise `PendingMigrationsError` for generated *query*'s *error* if migrations are pending.

    Call it while handling *error* (one of `UNDEFINED`), then re-raise *error*
    with a bare ``raise``: it returns when nothing is pending (after adding a note
    to *error*), when that cannot be told, and for a statement without a sqlc
    ``-- name:`` line, which is not generated code.
    """
    name = query_name(query)
    if name is None:
        return
    raised = behind_error(error, name, await pending(connection), connection.info.encoding)
    if raised is not None:
        raise raised from error


async def report(connection: psycopg.AsyncConnection[Any]) -> list[str] | None:
    """`pending`, with a warning logged when some are (for `test_db_connection()`)."""
    found = await pending(connection)
    if found:
        _logger.warning("the database is behind the code: %s", describe(found))
    return found


async def pending(connection: psycopg.AsyncConnection[Any]) -> list[str] | None:
    """The ids of the migrations *connection*'s database lacks; None when that is unknown.

    Never raises. An answer is remembered for a few seconds (`Memo`).
    """
    try:
        folder = available_ids()
        if folder is None:
            return None
        key = Memo.key(connection.info, folder[0])
        known, answer = MEMO.get(key)
        if known:
            return answer
    except Exception as exc:  # a failed check must not mask the failure
        _logger.debug("cannot tell which migrations are pending: %s", redact(str(exc)))
        return None
    answer = await _ask(connection, folder[1])
    MEMO.put(key, answer)
    return answer


async def _ask(connection: psycopg.AsyncConnection[Any], available: list[str]) -> list[str] | None:
    try:
        if connection.info.transaction_status in _USABLE:
            applied = await _applied(connection)
        else:
            async with await psycopg.AsyncConnection.connect(
                _conninfo(connection),
                autocommit=True,
                prepare_threshold=None,
                connect_timeout=CHECK_TIMEOUT,
            ) as fresh:
                applied = await _applied(fresh)
    except Exception as exc:  # a failed check must not mask the failure
        _logger.debug("cannot tell which migrations are pending: %s", redact(str(exc)))
        return None
    return pending_ids(available, applied)


async def _applied(connection: psycopg.AsyncConnection[Any]) -> set[str]:
    """The migration ids recorded in ``_yoyo_migration``, read without changing anything."""
    timeout = f"{CHECK_TIMEOUT * 1000}ms"
    async with (
        connection.transaction(force_rollback=True),
        connection.cursor(row_factory=tuple_row) as cursor,
    ):
        await cursor.execute(_GUARD, (timeout,), prepare=False)
        row = await cursor.fetchone()
        if row is None or not row[1]:
            return set()  # never migrated: every migration is pending
        await cursor.execute(_APPLIED, prepare=False)
        return {str(mid) for (mid,) in await cursor.fetchall()}


def _conninfo(connection: psycopg.AsyncConnection[Any]) -> str:
    """What *connection* was opened with: its parameters (``info.dsn`` omits the password)."""
    info = connection.info
    password = info.password
    return make_conninfo(info.dsn, password=password) if password else info.dsn
