"""The browsing pages: the table list, one table's rows and structure, and one row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from codex_db.studio._browse import (
    COUNT_TIMEOUT_MS,
    DELETED_MODES,
    OPERATORS,
    Browse,
    Count,
    Filter,
    Page,
    Row,
    fetch_page,
    fetch_row,
    parse_browse,
    shorten_statement_timeout,
)
from codex_db.studio._catalog import Catalog, Table, load_catalog
from codex_db.studio._context import Context
from codex_db.studio._forms import row_forms
from codex_db.studio._grid import browse_params, column_picker, fk_url, rows_grid, value_html
from codex_db.studio._http import Request, Response
from codex_db.studio._render import Html, e, grid, hidden, link, table_href, value_cell
from codex_db.studio._structure import structure

__all__ = ["row_page", "table_list", "table_page"]

_NOTICES = {
    "inserted": "Row inserted.",
    "updated": "Row updated.",
    "deleted": "Row deleted.",
    "unchanged": "Nothing changed.",
}
_REFERENCE_ROWS = 10


def table_list(ctx: Context, request: Request) -> Response:
    """``/``: every table and view with its row count."""
    with ctx.connect() as conn:
        catalog = load_catalog(conn)
        counts = _counts(conn, list(catalog.tables.values()), ctx.exact_count_limit)
    rows = [
        [
            Html(f"<td>{link(table_href(t.key), t.key)}</td>"),
            value_cell(t.kind),
            value_cell(counts.get(t.key, "?")),
            value_cell("yes" if t.soft_delete else ""),
            value_cell(", ".join(t.primary_key)),
            value_cell(str(len(t.columns))),
        ]
        for t in catalog.tables.values()
    ]
    headers = ["table", "kind", "rows", "soft delete", "primary key", "columns"]
    return ctx.page("Tables", grid(headers, rows))


def table_page(ctx: Context, request: Request, key: str) -> Response:
    """``/t/<table>``: filtered, sorted, paginated rows, then the table's structure."""
    with ctx.connect() as conn:
        catalog = load_catalog(conn)
        table = catalog.table(key)
        browse = parse_browse(table, request)
        page = fetch_page(conn, table, browse, exact_limit=ctx.exact_count_limit)
    csrf = ctx.csrf if ctx.write else ""
    parts = [
        _notice(request),
        _toolbar(ctx, table, browse, page.total),
        _filter_form(table, browse),
        column_picker(table, browse),
        _pager(table, browse, page),
        rows_grid(catalog, table, page.rows, browse, csrf=csrf),
        _pager(table, browse, page),
        structure(table),
    ]
    return ctx.page(f"{table.key} ({table.kind})", Html("".join(parts)))


def row_page(ctx: Context, request: Request, key: str) -> Response:
    """``/t/<table>/row?k=...``: one row, its links, the rows referencing it, and its forms."""
    with ctx.connect() as conn:
        catalog = load_catalog(conn)
        table = catalog.table(key)
        row = fetch_row(conn, table, request.args("k"))
        references = _references(conn, catalog, table, row)
    deleted = table.soft_delete and row[table.column_names.index("deleted_at")] is not None
    parts = [
        _notice(request),
        Html('<p class="error">This row is soft-deleted.</p>') if deleted else Html(""),
        _row_grid(catalog, table, row),
        row_forms(ctx, table, row) if ctx.write else Html(""),
        references,
    ]
    title = f"{table.key} {', '.join(request.args('k'))}"
    return ctx.page(title, Html("".join(parts)))


def _counts(conn: psycopg.Connection[Any], tables: list[Table], limit: int) -> dict[str, str]:
    """Row counts: ``~N`` (``pg_class.reltuples``) above *limit*, else exact within 3 s."""
    estimates = _estimates(conn, tables)
    found = {t.key: f"~{estimates[t.key]}" for t in tables if estimates[t.key] > limit}
    exact = [t for t in tables if t.key not in found]
    if not exact:
        return found
    counts = sql.SQL(", ").join(sql.SQL("(SELECT count(*) FROM {})").format(t.ident) for t in exact)
    try:
        with conn.transaction():
            shorten_statement_timeout(conn, COUNT_TIMEOUT_MS)
            row = conn.execute(sql.SQL("SELECT {}").format(counts), []).fetchone()
    except psycopg.Error:
        row = None
    for index, table in enumerate(exact):
        estimate = f"~{max(estimates[table.key], 0)}"
        found[table.key] = str(row[index]) if row is not None else estimate
    return found


def _estimates(conn: psycopg.Connection[Any], tables: list[Table]) -> dict[str, int]:
    """``pg_class.reltuples`` of each table: ``-1`` when never analyzed (and for views)."""
    names = [sql.Identifier(t.schema, t.name).as_string(conn) for t in tables]
    rows = conn.execute(
        "SELECT n, c.reltuples::bigint FROM unnest(%s::text[]) AS n"
        " JOIN pg_class c ON c.oid = n::regclass",
        (names,),
    ).fetchall()
    by_name = {str(n): int(r) if r is not None else -1 for n, r in rows}
    return {t.key: by_name.get(name, -1) for t, name in zip(tables, names, strict=True)}


def _notice(request: Request) -> Html:
    text = _NOTICES.get(request.arg("msg"))
    return Html(f'<p class="notice">{e(text)}</p>') if text else Html("")


def _toolbar(ctx: Context, table: Table, browse: Browse, total: Count) -> Html:
    counted = f"{total} matching row{'s' if total.rows != 1 else ''}"
    if not total.exact:
        counted += " (the planner's estimate)"
    items = [e(counted)]
    if table.soft_delete:
        labels = {"hide": "hide deleted", "show": "show deleted", "only": "only deleted"}
        for mode in DELETED_MODES:
            url = table_href(table.key, "", browse_params(browse, deleted=mode))
            items.append(
                Html(f"<b>{e(labels[mode])}</b>")
                if mode == browse.deleted
                else link(url, labels[mode])
            )
    if ctx.write and table.editable:
        items.append(link(table_href(table.key, "/new"), "insert a row"))
    params = browse_params(browse, columns=())
    exports = [
        link(table_href(table.key, "/export", [*params, ("format", fmt)]), fmt.upper())
        for fmt in ("csv", "json")
    ]
    items.append(Html(f"export the first {ctx.export_rows} matching rows: {' '.join(exports)}"))
    return Html(f"<p>{' · '.join(items)}</p>")


def _filter_form(table: Table, browse: Browse) -> Html:
    rows = [_filter_row(table, item) for item in (*browse.filters, Filter("", "eq"))]
    keep = [
        hidden(k, v)
        for k, v in browse_params(browse, filters=())
        if k in ("sort", "dir", "deleted", "col", "limit")
    ]
    clear = link(table_href(table.key, "", browse_params(browse, filters=())), "clear filters")
    action = e(table_href(table.key))
    return Html(
        f'<form method="get" action="{action}" class="filters"><fieldset>'
        "<legend>Filters <span class='muted'>(press / to type)</span></legend>"
        f"{''.join(rows)}{''.join(keep)}<button>apply</button> {clear}</fieldset></form>"
    )


def _filter_row(table: Table, item: Filter) -> Html:
    columns = _options([("", "(column)"), *((c, c) for c in table.column_names)], item.column)
    ops = _options(list(OPERATORS.items()), item.op)
    return Html(
        f'<div><select name="fc">{columns}</select> <select name="fo">{ops}</select>'
        f' <input name="fv" value="{e(item.value)}" placeholder="value"></div>'
    )


def _options(choices: Iterable[tuple[str, str]], selected: str) -> Html:
    return Html(
        "".join(
            f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(label)}</option>'
            for v, label in choices
        )
    )


def _pager(table: Table, browse: Browse, page: Page) -> Html:
    """First, previous and next page links (``rel`` prev/next: the arrow keys follow them)."""
    params = browse_params(browse)
    links = []
    if browse.after is not None or browse.before is not None or browse.offset:
        links.append(link(table_href(table.key, "", params), "first page"))
    position: list[tuple[str, str, str]] = []
    if page.prev_before is not None:
        position.append(("prev", "before", msgspec.json.encode(list(page.prev_before)).decode()))
    if page.prev_offset is not None:
        position.append(("prev", "offset", str(page.prev_offset)))
    if page.next_after is not None:
        position.append(("next", "after", msgspec.json.encode(list(page.next_after)).decode()))
    if page.next_offset is not None:
        position.append(("next", "offset", str(page.next_offset)))
    for rel, name, value in position:
        url = e(table_href(table.key, "", [*params, (name, value)]))
        label = "previous page" if rel == "prev" else "next page"
        links.append(Html(f'<a href="{url}" rel="{rel}">{label}</a>'))
    return Html(f'<nav class="pager">{"".join(links)}</nav>')


def _row_grid(catalog: Catalog, table: Table, row: Row) -> Html:
    cells = [
        [
            value_cell(c.name),
            value_cell(c.type),
            value_html(c, v, url=fk_url(catalog, table, row, c.name)),
        ]
        for c, v in zip(table.columns, row, strict=True)
    ]
    return grid(["column", "type", "value"], cells)


def _references(conn: psycopg.Connection[Any], catalog: Catalog, table: Table, row: Row) -> Html:
    """The rows of other tables whose foreign keys point at *row*, a few per key."""
    names = table.column_names
    parts = []
    for source, fk in catalog.referencing(table.key):
        values = [row[names.index(c)] for c in fk.target_columns]
        if None in values:
            continue
        filters = tuple(Filter(c, "eq", v or "") for c, v in zip(fk.columns, values, strict=True))
        browse = Browse(filters=filters, limit=_REFERENCE_ROWS)
        page = fetch_page(conn, source, browse)
        more = link(
            table_href(source.key, "", browse_params(browse)), f"all {page.total} in {source.key}"
        )
        via = e(f"{source.key}.{', '.join(fk.columns)} ({fk.name})")
        parts.append(f"<h2>{e(source.key)}</h2><p>via {via}: {more}</p>")
        parts.append(rows_grid(catalog, source, page.rows, browse))
    heading = "<h2>Referenced by</h2>" if parts else ""
    return Html(heading + "".join(parts))
