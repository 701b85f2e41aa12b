"""The pages beside the tables: the SQL console, the trigger registry and migration status."""

from __future__ import annotations

from codex_db import migrate
from codex_db.errors import CodexDBError
from codex_db.studio._console import ConsoleResult, run_console
from codex_db.studio._context import Context
from codex_db.studio._http import Request, Response
from codex_db.studio._plan import plan_tree
from codex_db.studio._render import Html, e, grid, hidden, value_cell
from codex_db.triggers import DATABASE_TRIGGERS, installed_triggers, trigger_drift

__all__ = ["console_page", "migrations_page", "triggers_page"]

_YOYO_TABLE = "SELECT to_regclass('_yoyo_migration') IS NOT NULL"


def console_page(ctx: Context, request: Request) -> Response:
    """``/sql``: the form; a POST runs its statement (or explains it) read-only, with the result.

    The buttons post ``mode``: empty runs the statement, ``explain`` shows its
    plan and ``analyze`` runs it under ``EXPLAIN ANALYZE`` (reads only).
    """
    query = request.arg("q") if request.method == "POST" else ""
    form = (
        f'<form method="post" action="/sql">{hidden("csrf", ctx.csrf)}'
        f'<textarea name="q" placeholder="SELECT ...">{e(query)}</textarea>'
        '<button name="mode" value="">run read-only</button>'
        ' <button name="mode" value="explain">EXPLAIN</button>'
        ' <button name="mode" value="analyze">EXPLAIN ANALYZE</button>'
        f" <span class='muted'>one statement, READ ONLY,"
        f" {e(f'{ctx.console_timeout:g}')} s limit, first {ctx.console_rows} rows</span></form>"
    )
    result = Html("")
    status = 200
    if query.strip():
        outcome = run_console(
            ctx.console,
            query,
            timeout=ctx.console_timeout,
            lock_timeout=ctx.lock_timeout,
            max_rows=ctx.console_rows,
            explain=request.arg("mode"),
        )
        result = _result(outcome)
        status = 400 if outcome.error else 200
    return ctx.page("SQL console", Html(_console_mode(ctx) + form + result), status=status)


def _console_mode(ctx: Context) -> str:
    console = ctx.console
    if console.mode == "reader":
        return (
            f'<p class="muted">Runs as {e(console.role)}, a role of this run that can read'
            " everything and change nothing.</p>"
        )
    return f'<p class="error">{e(console.reason)}.</p>'


def triggers_page(ctx: Context, request: Request) -> Response:
    """``/triggers``: the trigger registry, whether each one is installed, and any drift."""
    with ctx.connect() as conn:
        installed = installed_triggers(conn)
        drift = trigger_drift(conn)
    rows = [
        [
            value_cell(t.name),
            value_cell(t.table),
            value_cell(f"{t.timing} {t.event}"),
            value_cell(t.function),
            value_cell(t.condition),
            value_cell(_installed_label(t.name in installed, installed.get(t.name))),
            value_cell(t.description, limit=1000),
            value_cell(t.business_reason, limit=1000),
        ]
        for t in sorted(DATABASE_TRIGGERS.values(), key=lambda t: (t.table, t.name))
    ]
    headers = ["name", "table", "when", "function", "condition", "in database", "what", "why"]
    problems = (
        f'<div class="error">{e(chr(10).join(drift))}</div>'
        if drift
        else '<p class="notice">The database matches the registry.</p>'
    )
    return ctx.page("Triggers", Html(problems + grid(headers, rows)))


def migrations_page(ctx: Context, request: Request) -> Response:
    """``/migrations``: every migration and when it was applied (read-only: no yoyo setup)."""
    with ctx.connect() as conn:
        row = conn.execute(_YOYO_TABLE).fetchone()
    if not (row and row[0]):
        body = '<p class="muted">No migration has been applied to this database yet.</p>'
        return ctx.page("Migrations", Html(body))
    try:
        statuses = migrate.status(ctx.url)
    except CodexDBError as exc:
        return ctx.page("Migrations", Html(f'<div class="error">{e(exc)}</div>'), status=500)
    rows = [
        [
            value_cell(s.id),
            value_cell(s.applied_at.isoformat(sep=" ") if s.applied_at else "pending"),
            value_cell("edited since applied" if s.edited else ""),
        ]
        for s in statuses
    ]
    return ctx.page("Migrations", grid(["migration", "applied at (UTC)", "note"], rows))


def _installed_label(present: bool, trigger: object) -> str:
    if not present:
        return "missing"
    return "installed" if getattr(trigger, "enabled", False) else "disabled"


def _result(outcome: ConsoleResult) -> Html:
    if outcome.error:
        return Html(f'<div class="error">{e(outcome.error)}</div>')
    if outcome.plan is not None:
        return Html("<h2>Plan</h2>" + plan_tree(outcome.plan))
    if not outcome.columns:
        return Html(f'<p class="notice">{e(outcome.status)}</p>')
    note = f"first {len(outcome.rows)} rows shown" if outcome.truncated else outcome.status
    cells = [[value_cell(v, limit=500) for v in row] for row in outcome.rows]
    return Html(f'<p class="muted">{e(note)}</p>' + grid(outcome.columns, cells))
