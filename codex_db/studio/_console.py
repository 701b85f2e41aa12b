"""The read-only SQL console: one statement, as a role that can only read, with time limits.

Three layers keep it read-only. It runs as the `ConsoleRole` chosen at start:
a login role of its own that can read and change nothing (or, where there is
none, the studio's user with plain reads only). The statement runs inside a
``READ ONLY`` transaction, with ``statement_timeout`` and ``lock_timeout``
set locally, that is always rolled back. And it is sent as a prepared
statement, which PostgreSQL refuses to hold more than one command, so
``COMMIT; DELETE ...`` cannot leave the transaction.

``EXPLAIN`` and ``EXPLAIN ANALYZE`` (`EXPLAIN_MODES`) wrap the statement in
``EXPLAIN (FORMAT JSON)`` and run it the same way, as the same role; ANALYZE
executes the statement, so it is only offered for reads (``SELECT``,
``WITH``, ``TABLE``, ``VALUES``), and any write in them still fails in the
read-only transaction.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import psycopg

from codex_db.studio._console_role import ConsoleRole

__all__ = ["EXPLAIN_MODES", "ConsoleResult", "refusal", "run_console"]

#: Statements that only read, by their first word (``EXPLAIN ANALYZE`` of a write still fails).
_PLAIN_READS = {"select", "with", "table", "values", "explain", "show"}

#: Functions acting outside the transaction or the role (sessions, files, other
#: connections, WAL, SQL given as text), refused when there is no reader role.
_OUTSIDE = re.compile(
    r"(?<![\w$])\"?("
    r"set_config|dblink\w*|query_to_xml\w*|cursor_to_xml\w*|lo_\w+|"
    r"pg_(terminate|cancel)_backend|pg_reload_conf|pg_rotate_logfile\w*|"
    r"pg_(read|read_binary|stat)_file|pg_ls_\w+|pg_file_\w+|pg_\w*replication\w*|"
    r"pg_switch_wal|pg_create_restore_point|pg_promote|pg_stat_reset\w*|"
    r"pg_(start|stop)_backup|pg_backup_\w+|pg_logical_\w+|pg_import_system_collations"
    r")\"?(?![\w$])",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z_]+")
#: ``U&"..."`` spells any name with escapes, past the list above.
_UNICODE_NAME = re.compile(r"\bu&[\"']", re.IGNORECASE)

#: Console modes besides running the statement: the prefix each one adds to it.
EXPLAIN_MODES = {
    "explain": "EXPLAIN (FORMAT JSON) ",
    "analyze": "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ",
}
#: What EXPLAIN ANALYZE may run: statements that read, by their first word.
_ANALYZABLE = {"select", "with", "table", "values"}


class ConsoleResult(msgspec.Struct, frozen=True):
    """What a console statement returned: columns, the first rows, or its error."""

    columns: list[str] = []
    rows: list[tuple[str | None, ...]] = []
    truncated: bool = False
    status: str = ""
    error: str | None = None
    plan: list[Any] | None = None
    """What ``EXPLAIN (FORMAT JSON)`` returned, in the explain modes."""


def run_console(
    console: ConsoleRole,
    query: str,
    *,
    timeout: float,
    lock_timeout: float,
    max_rows: int,
    explain: str = "",
) -> ConsoleResult:
    """Run *query* as *console*'s role, read-only, within *timeout* s, keeping *max_rows* rows.

    With *explain* (a key of `EXPLAIN_MODES`) its plan comes back instead, in
    ``plan``. Refusals, database errors and timeouts come back in ``error``.
    """
    refused = refusal(console, query, explain=explain)
    if refused:
        return ConsoleResult(error=refused)
    statement = EXPLAIN_MODES[explain] + query.strip().rstrip(";") if explain else query
    try:
        with _connect(console.conninfo) as conn:
            return _run(conn, console, statement, (timeout, lock_timeout), max_rows)
    except psycopg.Error as exc:
        return ConsoleResult(error=str(exc).strip() or type(exc).__name__)


def refusal(console: ConsoleRole, query: str, *, explain: str = "") -> str | None:
    """Why *console* will not run *query* (in mode *explain*), or ``None`` when it may."""
    if console.mode == "off":
        return f"the SQL console is off: {console.reason}"
    words = _leading_words(query)
    if explain and explain not in EXPLAIN_MODES:
        return f"unknown console mode {explain!r}: expected explain or analyze"
    if explain and words[0] == "explain":
        return "the statement is an EXPLAIN already: press run, or leave out the EXPLAIN"
    if explain == "analyze" and words[0] not in _ANALYZABLE:
        return (
            "EXPLAIN ANALYZE runs the statement, so only reads (SELECT, WITH, TABLE, VALUES)"
            f" here, not {words[0].upper()!r}: use EXPLAIN for the plan alone"
        )
    if words[:2] == ["prepare", "transaction"]:
        return "PREPARE TRANSACTION would keep the console's locks after it ends: not allowed"
    if console.mode == "reader":
        return None
    if words[0] not in _PLAIN_READS:
        return (
            f"only plain reads (SELECT, WITH, TABLE, VALUES, EXPLAIN, SHOW) here, not"
            f" {words[0].upper()!r}: {console.reason}"
        )
    if _UNICODE_NAME.search(query):
        return f"U& names are not taken here: spell names plainly ({console.reason})"
    found = _OUTSIDE.search(query)
    if found:
        return f"{found.group(1)}() acts outside a read-only transaction: {console.reason}"
    return None


def _leading_words(query: str, count: int = 2) -> list[str]:
    """The first *count* words of *query*, lower case, past blanks, parentheses and comments.

    Block comments nest in PostgreSQL (``/* /* */ SELECT */ DO ...`` is a
    ``DO``), so they are skipped by depth, not by the first ``*/``.
    """
    words: list[str] = []
    at = 0
    while len(words) < count:
        at = _skip_noise(query, at)
        word = _WORD.match(query, at)
        if word is None:
            break
        words.append(word.group().lower())
        at = word.end()
    return words or [""]


def _skip_noise(query: str, at: int) -> int:
    while at < len(query):
        if query[at].isspace() or query[at] == "(":
            at += 1
        elif query.startswith("--", at):
            end = query.find("\n", at)
            at = len(query) if end < 0 else end
        elif query.startswith("/*", at):
            at = _skip_block_comment(query, at)
        else:
            break
    return at


def _skip_block_comment(query: str, at: int) -> int:
    depth = 0
    while at < len(query):
        if query.startswith("/*", at):
            depth, at = depth + 1, at + 2
        elif query.startswith("*/", at):
            depth, at = depth - 1, at + 2
            if depth == 0:
                return at
        else:
            at += 1
    return at


def _connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        conninfo,
        autocommit=True,
        connect_timeout=10,
        application_name="codex-db studio console",
    )


def _run(
    conn: psycopg.Connection[tuple[object, ...]],
    console: ConsoleRole,
    query: str,
    timeouts: tuple[float, float],
    max_rows: int,
) -> ConsoleResult:
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        settings = [("statement_timeout", timeouts[0]), ("lock_timeout", timeouts[1])]
        for name, seconds in settings:
            conn.execute("SELECT set_config(%s, %s, true)", (name, f"{int(seconds * 1000)}"))
        if console.search_path:
            conn.execute("SELECT set_config('search_path', %s, true)", (console.search_path,))
        with psycopg.RawCursor(conn) as cur:
            cur.execute(query, prepare=True)
            if cur.description is None:
                return ConsoleResult(status=cur.statusmessage or "")
            if query.startswith(tuple(EXPLAIN_MODES.values())):
                found = cur.fetchone()
                plan = found[0] if found else []
                return ConsoleResult(plan=plan if isinstance(plan, list) else [])
            rows = cur.fetchmany(max_rows + 1)
            return ConsoleResult(
                columns=[d.name for d in cur.description],
                rows=[tuple(None if v is None else str(v) for v in r) for r in rows[:max_rows]],
                truncated=len(rows) > max_rows,
                status=cur.statusmessage or "",
            )
