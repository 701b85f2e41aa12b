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
    Filter,
    Row,
    fetch_page,
    fetch_row,
    parse_browse,
    shorten_statement_timeout,
)
from codex_db.studio._catalog import Catalog, Table, load_catalog
from codex_db.studio._context import Context
from codex_db.studio._forms import row_forms
from codex_db.studio._http import Request, Response
from codex_db.studio._render import Html, e, grid, hidden, link, table_href, value_cell
from codex_db.studio._structure import structure

__all__ = ["browse_params", "row_page", "row_url", "table_list", "table_page"]

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
        counts = _counts(conn, list(catalog.tables.values()))
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
        page = fetch_page(conn, table, browse)
    parts = [
        _notice(request),
        _toolbar(ctx, table, browse, page.total),
        _filter_form(table, browse),
        _rows(catalog, table, page.rows, browse),
        _pager(table, browse, page.next_after, page.next_offset),
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


def row_url(table: Table, row: Row) -> str | None:
    """The row page of *row*, or ``None`` when *table* has no primary key."""
    if not table.primary_key:
        return None
    names = table.column_names
    return table_href(
        table.key, "/row", [("k", row[names.index(k)] or "") for k in table.primary_key]
    )


def browse_params(browse: Browse, **changes: Any) -> list[tuple[str, str]]:
    """The query string of *browse* with *changes*, without the page position."""
    browse = msgspec.structs.replace(browse, **changes)
    params: list[tuple[str, str]] = []
    if browse.sort:
        params += [("sort", browse.sort), ("dir", "desc" if browse.desc else "asc")]
    for item in browse.filters:
        params += [("fc", item.column), ("fo", item.op), ("fv", item.value)]
    if browse.deleted != "hide":
        params.append(("deleted", browse.deleted))
    return params


def _counts(conn: psycopg.Connection[Any], tables: list[Table]) -> dict[str, str]:
    """Exact row counts within 3 seconds, else the planner's estimates (``~N``)."""
    if not tables:
        return {}
    counts = sql.SQL(", ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(t.ident) for t in tables
    )
    try:
        with conn.transaction():
            shorten_statement_timeout(conn, COUNT_TIMEOUT_MS)
            row = conn.execute(sql.SQL("SELECT {}").format(counts), []).fetchone()
    except psycopg.Error:
        row = None
    if row is not None:
        return {t.key: str(n) for t, n in zip(tables, row, strict=True)}
    return {t.key: f"~{_estimate(conn, t)}" for t in tables}


def _estimate(conn: psycopg.Connection[Any], table: Table) -> int:
    query = "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass"
    name = sql.Identifier(table.schema, table.name).as_string(conn)
    row = conn.execute(query, (name,)).fetchone()
    return int(row[0]) if row else 0


def _notice(request: Request) -> Html:
    text = _NOTICES.get(request.arg("msg"))
    return Html(f'<p class="notice">{e(text)}</p>') if text else Html("")


def _toolbar(ctx: Context, table: Table, browse: Browse, total: int | None) -> Html:
    counted = f"{total} matching row{'s' if total != 1 else ''}"
    items = [e(counted if total is not None else "too many matching rows to count quickly")]
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
    params = browse_params(browse)
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
        if k in ("sort", "dir", "deleted")
    ]
    clear = link(table_href(table.key, "", browse_params(browse, filters=())), "clear filters")
    action = e(table_href(table.key))
    return Html(
        f'<form method="get" action="{action}"><fieldset><legend>Filters</legend>'
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


def _rows(catalog: Catalog, table: Table, rows: list[Row], browse: Browse) -> Html:
    headers: list[Html | str] = [""] if table.primary_key else []
    for column in table.columns:
        desc = browse.sort == column.name and not browse.desc
        arrow = (" ▼" if browse.desc else " ▲") if browse.sort == column.name else ""
        url = table_href(table.key, "", browse_params(browse, sort=column.name, desc=desc))
        headers.append(Html(f"{link(url, column.name + arrow, title=column.type)}"))
    cells = [_row_cells(catalog, table, row) for row in rows]
    deleted = table.column_names.index("deleted_at") if table.soft_delete else None
    classes = ["deleted" if deleted is not None and r[deleted] else "" for r in rows]
    if not rows:
        return Html('<p class="muted">No rows.</p>')
    return grid(headers, cells, classes, css_class="rows")


def _row_cells(catalog: Catalog, table: Table, row: Row) -> list[Html]:
    url = row_url(table, row)
    cells = [Html(f"<td>{link(url, 'open')}</td>")] if url else []
    cells += [
        value_cell(v, url=_fk_url(catalog, table, row, c))
        for c, v in zip(table.column_names, row, strict=True)
    ]
    return cells


def _fk_url(catalog: Catalog, table: Table, row: Row, column: str) -> str | None:
    """Where the foreign-key value in *column* points: the row, or a filter on its table."""
    fk = table.link_of(column)
    if fk is None:
        return None
    names = table.column_names
    values = dict(zip(fk.target_columns, (row[names.index(c)] for c in fk.columns), strict=True))
    if None in values.values():
        return None
    target = catalog.tables[fk.target]
    if set(target.primary_key) == set(values):
        return table_href(target.key, "/row", [("k", values[k] or "") for k in target.primary_key])
    params = [p for k, v in values.items() for p in (("fc", k), ("fo", "eq"), ("fv", v or ""))]
    return table_href(target.key, "", [*params, ("deleted", "show")])


def _pager(
    table: Table, browse: Browse, after: tuple[str | None, ...] | None, offset: int | None
) -> Html:
    links = []
    if browse.after is not None or browse.offset:
        links.append(link(table_href(table.key, "", browse_params(browse)), "first page"))
    if after is not None:
        cursor = msgspec.json.encode(list(after)).decode()
        params = [*browse_params(browse), ("after", cursor)]
        links.append(link(table_href(table.key, "", params), "next page"))
    if offset is not None:
        params = [*browse_params(browse), ("offset", str(offset))]
        links.append(link(table_href(table.key, "", params), "next page"))
    return Html(f'<nav class="pager">{"".join(links)}</nav>')


def _row_grid(catalog: Catalog, table: Table, row: Row) -> Html:
    cells = [
        [
            value_cell(c.name),
            value_cell(c.type),
            value_cell(v, limit=10_000, url=_fk_url(catalog, table, row, c.name)),
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
            table_href(source.key, "", browse_params(browse)),
            f"all {'rows' if page.total is None else page.total} in {source.key}",
        )
        via = e(f"{source.key}.{', '.join(fk.columns)} ({fk.name})")
        parts.append(f"<h2>{e(source.key)}</h2><p>via {via}: {more}</p>")
        parts.append(_rows(catalog, source, page.rows, browse))
    heading = "<h2>Referenced by</h2>" if parts else ""
    return Html(heading + "".join(parts))
