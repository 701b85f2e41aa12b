"""The ``--write`` pages: row forms, the confirm step that shows the SQL, and applying it.

The grid's inline editor posts the same update form (one value) with a
``back`` field, the table page it came from: the confirm page keeps it, and
after **run it** (or when nothing changed) the browser returns there. Only a
path of the same table's page is taken as ``back``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg

from codex_db.studio._browse import Row, fetch_row
from codex_db.studio._catalog import Column, Table, load_catalog
from codex_db.studio._context import Context
from codex_db.studio._edit import (
    Change,
    NoRowError,
    apply_change,
    changed_values,
    describe_error,
    parse_change,
    statement,
)
from codex_db.studio._http import HTTPError, Request, Response
from codex_db.studio._render import Html, button_form, e, hidden, link, table_href

__all__ = ["apply_page", "insert_page", "preview_page", "redirect", "row_forms"]

_DONE = {"insert": "inserted", "update": "updated", "delete": "deleted"}


def row_forms(ctx: Context, table: Table, row: Row) -> Html:
    """The edit form and the delete button of a row page (write mode only)."""
    if not table.editable:
        return Html("")
    key = _key(table, row)
    fields = "".join(_field(c, v, insert=False) for c, v in zip(table.columns, row, strict=True))
    action = table_href(table.key, "/preview")
    edit = (
        f'<form method="post" action="{e(action)}"><fieldset><legend>Edit</legend>'
        f"{hidden('csrf', ctx.csrf)}{hidden('action', 'update')}"
        f"{''.join(hidden('k', k) for k in key)}{fields}<button>review update…</button>"
        "</fieldset></form>"
    )
    delete = button_form(
        action, "review delete…", [("action", "delete"), *(("k", k) for k in key)], ctx.csrf
    )
    return Html(edit + f"<p>{delete}</p>")


def insert_page(ctx: Context, request: Request, key: str) -> Response:
    """``/t/<table>/new``: the insert form."""
    table = _editable(ctx, key)
    fields = "".join(_field(c, None, insert=True) for c in table.columns if c.writable)
    action = table_href(table.key, "/preview")
    body = (
        f'<form method="post" action="{e(action)}"><fieldset><legend>New row</legend>'
        f"{hidden('csrf', ctx.csrf)}{hidden('action', 'insert')}{fields}"
        "<button>review insert…</button></fieldset></form>"
    )
    return ctx.page(f"Insert into {table.key}", Html(body))


def preview_page(ctx: Context, request: Request, key: str) -> Response:
    """``POST /t/<table>/preview``: the SQL a change will run, and the button that runs it."""
    table = _editable(ctx, key)
    change = parse_change(table, request)
    back = _back(table, request)
    with ctx.connect() as conn:
        if change.action != "insert":
            current = fetch_row(conn, table, list(change.key))
            if change.action == "update":
                change = changed_values(table, current, change)
                if not change.values:
                    return redirect(_done_href(table, change.key, "unchanged", back))
        return _confirm(ctx, conn, table, change, error=None, back=back)


def apply_page(ctx: Context, request: Request, key: str) -> Response:
    """``POST /t/<table>/apply``: run the confirmed change in one transaction."""
    table = _editable(ctx, key)
    change = parse_change(table, request)
    back = _back(table, request)
    with ctx.connect() as conn:
        try:
            new_key = apply_change(conn, table, change)
        except NoRowError as exc:
            raise HTTPError(409, str(exc)) from None
        except psycopg.Error as exc:
            return _confirm(ctx, conn, table, change, error=exc, back=back)
    if change.action == "delete" and not back:
        return redirect(table_href(table.key, "", [("msg", "deleted")]))
    return redirect(_done_href(table, new_key, _DONE[change.action], back))


def redirect(location: str) -> Response:
    """A 303 to *location* (a path from `href`), so reloading does not post again."""
    return Response(b"", status=303, headers=[("Location", location)])


def _editable(ctx: Context, key: str) -> Table:
    if not ctx.write:
        raise HTTPError(403, "the studio is read-only: start it with --write to edit rows")
    with ctx.connect() as conn:
        table = load_catalog(conn).table(key)
    if not table.editable:
        raise HTTPError(
            400, f"{table.key!r} cannot be edited: it is not a table with a primary key"
        )
    return table


def _confirm(
    ctx: Context,
    conn: psycopg.Connection[tuple[object, ...]],
    table: Table,
    change: Change,
    error: psycopg.Error | None,
    back: str = "",
) -> Response:
    text = statement(table, change, literal=True).as_string(conn)
    fields = [("action", change.action), *(("k", k) for k in change.key)]
    for name, value in change.values.items():
        fields.append((f"n.{name}", "1") if value is None else (f"v.{name}", value))
    if back:
        fields.append(("back", back))
    run = button_form(table_href(table.key, "/apply"), "run it", fields, ctx.csrf)
    cancel = back or (_row_href(table, change.key) if change.key else table_href(table.key))
    back_link = link(cancel, "cancel")
    problem = f'<div class="error">{e(describe_error(error))}</div>' if error else ""
    body = (
        f"{problem}<p>This statement runs in its own transaction:</p>"
        f'<pre class="sql">{e(text)}</pre><p>{run} {back_link}</p>'
    )
    status = 200 if error is None else (409 if (error.sqlstate or "").startswith("23") else 400)
    return ctx.page(f"Confirm {change.action} on {table.key}", Html(body), status=status)


def _field(column: Column, value: str | None, *, insert: bool) -> Html:
    name = column.name
    label = f"<label><b>{e(name)}</b> <span class='muted'>{e(column.type)}</span></label><br>"
    if not column.writable:
        return Html(f"<div>{label}<input value='{e(value or '')}' disabled></div>")
    text = value or ""
    widget = (
        # The newline after the tag is dropped by HTML parsers, not a leading one of the value.
        f'<textarea name="v.{e(name)}">\n{e(text)}</textarea>'
        if "\n" in text or len(text) > 80
        else f'<input name="v.{e(name)}" value="{e(text)}" size="50">'
    )
    null = _checkbox(f"n.{name}", "null", checked=not insert and value is None)
    default = ""
    if insert:
        uses_default = column.default is not None or bool(column.identity) or not column.not_null
        default = _checkbox(f"d.{name}", "default", checked=uses_default)
    return Html(f"<div>{label}{widget} {null} {default}</div>")


def _checkbox(name: str, label: str, *, checked: bool) -> str:
    mark = " checked" if checked else ""
    return f'<label><input type="checkbox" name="{e(name)}" value="1"{mark}> {e(label)}</label>'


def _key(table: Table, row: Row) -> list[str]:
    names = table.column_names
    return [row[names.index(k)] or "" for k in table.primary_key]


def _back(table: Table, request: Request) -> str:
    """The ``back`` field rebuilt as this table's page (its query kept), else ``""``.

    Anything but a path of this table's page is a 400 error: ``back`` never
    leads to another origin or page.
    """
    back = request.arg("back")
    if not back:
        return ""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or unquote(parts.path) != f"/t/{table.key}":
        page = table_href(table.key)
        raise HTTPError(400, f"back must be a page of table {table.key!r}, like {page}?...")
    return table_href(table.key, "", parse_qsl(parts.query, keep_blank_values=True))


def _done_href(table: Table, key: tuple[str, ...] | list[str], msg: str, back: str) -> str:
    """Where to go after a change: *back* (with its notice) or the row page."""
    if not back:
        return _row_href(table, key, msg)
    query = parse_qsl(urlsplit(back).query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "msg"]
    return table_href(table.key, "", [*kept, ("msg", msg)])


def _row_href(table: Table, key: tuple[str, ...] | list[str], msg: str = "") -> str:
    params = [("k", k) for k in key] + ([("msg", msg)] if msg else [])
    return table_href(table.key, "/row", params)
