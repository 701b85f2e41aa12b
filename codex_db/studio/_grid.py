"""The rows grid of a table page: which columns it shows and how each value reads.

Values are PostgreSQL's text, made easier to read without changing them:
timestamps read ``2025-01-14 09:00:00 UTC`` (pages run in UTC; fractions of a
second are left to the tooltip), JSON and arrays are pretty-printed in the
tooltip and on the row page, and long text is cut with the whole value in the
tooltip (``title``). The grid's first column (with a key: the row link and the
first shown column) stays put while the rest scrolls sideways, and the header
row stays on top (CSS ``position: sticky``).

In ``--write`` mode each row carries its key (``data-k``) and each editable
cell its column and exact value (``data-col``, ``data-v``), which the inline
editor of ``studio.js`` posts to the usual preview page.
"""

from __future__ import annotations

import json
import re

import msgspec

from codex_db.studio._browse import PAGE_SIZE, Browse, Row
from codex_db.studio._catalog import Catalog, Column, Table
from codex_db.studio._render import Html, e, hidden, link, table_href

__all__ = [
    "EDITABLE_CHARS",
    "browse_params",
    "column_picker",
    "fk_url",
    "readable",
    "row_url",
    "rows_grid",
    "value_html",
]

#: Cells longer than this are edited on the row page, not inline.
EDITABLE_CHARS = 10_000
_SHOWN_CHARS = 120
_TOOLTIP_CHARS = 4000
_TIMESTAMP = re.compile(r"(-?\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::\d\d){0,2})?")


def browse_params(browse: Browse, **changes: object) -> list[tuple[str, str]]:
    """The query string of *browse* with *changes*: all but the page position."""
    browse = msgspec.structs.replace(browse, **changes)
    params: list[tuple[str, str]] = []
    if browse.sort:
        params += [("sort", browse.sort), ("dir", "desc" if browse.desc else "asc")]
    for item in browse.filters:
        params += [("fc", item.column), ("fo", item.op), ("fv", item.value)]
    if browse.deleted != "hide":
        params.append(("deleted", browse.deleted))
    params += [("col", name) for name in browse.columns]
    if browse.limit != PAGE_SIZE:
        params.append(("limit", str(browse.limit)))
    return params


def row_url(table: Table, row: Row) -> str | None:
    """The row page of *row*, or ``None`` when *table* has no primary key."""
    if not table.primary_key:
        return None
    names = table.column_names
    return table_href(
        table.key, "/row", [("k", row[names.index(k)] or "") for k in table.primary_key]
    )


def fk_url(catalog: Catalog, table: Table, row: Row, column: str) -> str | None:
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


def rows_grid(
    catalog: Catalog, table: Table, rows: list[Row], browse: Browse, *, csrf: str = ""
) -> Html:
    """The rows as a grid with sortable headers; with *csrf* (``--write``), editable inline."""
    if not rows:
        return Html('<p class="muted">No rows.</p>')
    shown = [table.column(n) for n in browse.columns] if browse.columns else list(table.columns)
    keyed = bool(table.primary_key)
    head = ['<th class="pin open"></th>'] if keyed else []
    for index, column in enumerate(shown):
        desc = browse.sort == column.name and not browse.desc
        arrow = (" ▼" if browse.desc else " ▲") if browse.sort == column.name else ""
        url = table_href(table.key, "", browse_params(browse, sort=column.name, desc=desc))
        pin = _class(_pin(index, keyed))
        head.append(f"<th{pin}>{link(url, column.name + arrow, title=column.type)}</th>")
    editable = bool(csrf) and table.editable
    body = "".join(_row(catalog, table, row, shown, editable=editable) for row in rows)
    extra = (
        f' data-edit="{e(table_href(table.key, "/preview"))}" data-csrf="{e(csrf)}"'
        if editable
        else ""
    )
    return Html(
        f'<div class="grid"><table class="rows" data-table="{e(table.key)}"{extra}>'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def column_picker(table: Table, browse: Browse) -> Html:
    """A GET form of one checkbox per column, keeping the filters and sort; no script needed."""
    chosen = set(browse.columns or table.column_names)
    boxes = "".join(
        f'<label><input type="checkbox" name="col" value="{e(c.name)}"'
        f"{' checked' if c.name in chosen else ''}> {e(c.name)}</label>"
        for c in table.columns
    )
    others = browse_params(browse, columns=())
    keep = "".join(hidden(k, v) for k, v in others)
    every = link(table_href(table.key, "", [*others, ("col", "")]), "all")
    count = f"{len(chosen)} of {len(table.columns)}"
    return Html(
        f'<details class="columns"><summary>columns ({count})</summary>'
        f'<form method="get" action="{e(table_href(table.key))}" class="columns"'
        f' data-table="{e(table.key)}">'
        f"{keep}<div>{boxes}</div><button>show these columns</button> {every}</form></details>"
    )


def readable(column: Column, value: str) -> tuple[str, str]:
    """*value* as the grid shows it and its tooltip (``""``: none needed)."""
    if column.type.startswith("timestamp"):
        found = _TIMESTAMP.fullmatch(value)
        if found:
            base, fraction, offset = found.groups()
            shown = f"{base} UTC" if offset == "+00" else base + (offset or "")
            return shown, value if fraction else ""
    pretty = _pretty(column, value)
    if pretty is not None:
        return _cut(value), pretty[:_TOOLTIP_CHARS]
    if len(value) > _SHOWN_CHARS or "\n" in value:
        return _cut(value), value[:_TOOLTIP_CHARS]
    return value, ""


def value_html(column: Column, value: str | None, *, url: str | None = None) -> Html:
    """The whole of *value* for the row page: JSON and arrays pretty-printed, else as is."""
    if value is None:
        return Html('<td class="null">null</td>')
    pretty = _pretty(column, value)
    if pretty is not None and url is None:
        return Html(f'<td><pre class="value">{e(pretty)}</pre></td>')
    return Html(f"<td>{link(url, value) if url else e(value)}</td>")


def _row(catalog: Catalog, table: Table, row: Row, shown: list[Column], *, editable: bool) -> str:
    names = table.column_names
    url = row_url(table, row)
    deleted = table.soft_delete and row[names.index("deleted_at")] is not None
    attrs = ' class="deleted"' if deleted else ""
    if editable:
        key = [row[names.index(k)] or "" for k in table.primary_key]
        attrs += f' data-k="{e(msgspec.json.encode(key).decode())}"'
    cells = [f'<td class="pin open">{link(url, "open")}</td>'] if url else []
    for index, column in enumerate(shown):
        value = row[names.index(column.name)]
        target = fk_url(catalog, table, row, column.name)
        cells.append(_cell(column, value, target, _pin(index, bool(url)), editable=editable))
    return f"<tr{attrs}>{''.join(cells)}</tr>"


def _cell(column: Column, value: str | None, url: str | None, pin: str, *, editable: bool) -> str:
    edit = ""
    if editable and column.writable and (value is None or len(value) <= EDITABLE_CHARS):
        edit = f' data-col="{e(column.name)}"'
        edit += ' data-null="1"' if value is None else f' data-v="{e(value)}"'
    if value is None:
        return f"<td{_class(pin, 'null')}{edit}>null</td>"
    shown, tooltip = readable(column, value)
    title = f' title="{e(tooltip)}"' if tooltip else ""
    inner = link(url, shown) if url else e(shown)
    return f"<td{_class(pin)}{title}{edit}>{inner}</td>"


def _pin(index: int, keyed: bool) -> str:
    """The classes that keep the first shown column in view (the second, after a row link)."""
    if index != 0:
        return ""
    return "pin pin2" if keyed else "pin"


def _class(*names: str) -> str:
    joined = " ".join(n for n in names if n)
    return f' class="{joined}"' if joined else ""


def _cut(value: str) -> str:
    flat = " ".join(value.split()) if "\n" in value else value
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"


def _pretty(column: Column, value: str) -> str | None:
    """JSON indented, arrays one element a line (as JSON), or ``None`` for other values."""
    if column.type in ("json", "jsonb"):
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except ValueError:
            return None
    if column.type.endswith("[]"):
        items = _array_items(value)
        return None if items is None else json.dumps(items, indent=2, ensure_ascii=False)
    return None


def _array_items(text: str) -> list[str | None] | None:
    """The elements of a one-dimensional array literal ``{a,"b c",NULL}``, or ``None``."""
    if not (text.startswith("{") and text.endswith("}")) or "{" in text[1:-1]:
        return None
    items: list[str | None] = []
    at, body = 0, text[1:-1]
    while at < len(body):
        if body[at] == '"':
            at += 1
            chars = []
            while at < len(body) and body[at] != '"':
                if body[at] == "\\":
                    at += 1
                chars.append(body[at] if at < len(body) else "")
                at += 1
            items.append("".join(chars))
            at += 2  # the closing quote and the comma
        else:
            end = body.find(",", at)
            end = len(body) if end < 0 else end
            word = body[at:end]
            items.append(None if word == "NULL" else word)
            at = end + 1
    return items
