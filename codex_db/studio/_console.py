"""The read-only SQL console: one statement, in a READ ONLY transaction, with a time limit.

Two layers keep it read-only: the statement runs inside a transaction
started with ``SET TRANSACTION READ ONLY`` (and ``SET LOCAL statement_timeout``,
through ``set_config``) that is always rolled back; and it is sent as a
prepared statement, which PostgreSQL refuses to hold more than one command, so
``COMMIT; DELETE ...`` cannot leave the transaction. Read-only is a property
of the transaction, not a sandbox: functions with effects outside the database
(``COPY ... TO PROGRAM`` for a superuser, ``pg_terminate_backend``) still run.
"""

from __future__ import annotations

import msgspec
import psycopg

__all__ = ["ConsoleResult", "run_readonly"]


class ConsoleResult(msgspec.Struct, frozen=True):
    """What a console statement returned: columns, the first rows, or its error."""

    columns: list[str] = []
    rows: list[tuple[str | None, ...]] = []
    truncated: bool = False
    status: str = ""
    error: str | None = None


def run_readonly(url: str, query: str, *, timeout: float, max_rows: int) -> ConsoleResult:
    """Run *query* read-only, stopping it after *timeout* seconds and keeping *max_rows* rows.

    Database errors (a write refused, the timeout) come back in ``error``.
    """
    try:
        with _connect(url) as conn:
            return _run(conn, query, timeout, max_rows)
    except psycopg.Error as exc:
        return ConsoleResult(error=str(exc).strip() or type(exc).__name__)


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=10,
        application_name="codex-db studio console",
    )


def _run(
    conn: psycopg.Connection[tuple[object, ...]], query: str, timeout: float, max_rows: int
) -> ConsoleResult:
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout * 1000)}",)
        )
        with psycopg.RawCursor(conn) as cur:
            cur.execute(query, prepare=True)
            if cur.description is None:
                return ConsoleResult(status=cur.statusmessage or "")
            rows = cur.fetchmany(max_rows + 1)
            return ConsoleResult(
                columns=[d.name for d in cur.description],
                rows=[tuple(None if v is None else str(v) for v in r) for r in rows[:max_rows]],
                truncated=len(rows) > max_rows,
                status=cur.statusmessage or "",
            )
