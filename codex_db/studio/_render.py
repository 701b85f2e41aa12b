"""HTML building blocks of the studio: escaping, links, tables, forms and the page frame.

Every helper escapes what it is given; callers pass raw values and only the
`Html` strings built here are trusted.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from importlib import resources
from urllib.parse import quote, urlencode

from codex_db.studio._http import Response

__all__ = [
    "CSS",
    "SCRIPT",
    "Html",
    "button_form",
    "e",
    "grid",
    "hidden",
    "href",
    "link",
    "page",
    "table_href",
    "value_cell",
]


class Html(str):
    """Markup that is already safe: produced by the helpers of this module."""

    __slots__ = ()


CSS = b"""
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center}
header>*{white-space:nowrap}header a{color:#cfe0ff;text-decoration:none}
header .db{margin-left:auto;opacity:.75;overflow:hidden;text-overflow:ellipsis;min-width:0}
header .mode{padding:.1em .5em;border-radius:3px;background:#2f6f3f}
header .mode.write{background:#a33}
main{padding:1em 1.2em}h1{font-size:1.3em;margin:.2em 0 .6em}h2{font-size:1.1em}
table{border-collapse:collapse;background:#fff;margin:.4em 0}
td,th{border:1px solid #d6d9e0;padding:3px 8px;text-align:left;vertical-align:top;max-width:28em}
th{background:#eef0f4;white-space:nowrap}td{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
.grid{overflow:auto;max-width:100%;max-height:calc(100vh - 5em);border:1px solid #d6d9e0;
background:#fff;margin:.4em 0}
table.rows{border-collapse:separate;border-spacing:0;margin:0}
table.rows td,table.rows th{border:0;border-right:1px solid #d6d9e0;
border-bottom:1px solid #d6d9e0;white-space:nowrap;max-width:24em;overflow:hidden;
text-overflow:ellipsis}
table.rows thead th{position:sticky;top:0;z-index:2}
table.rows .pin{position:sticky;left:0;z-index:1;background:#fff}
table.rows th.pin{z-index:3;background:#eef0f4}
table.rows .open{width:4em;min-width:4em;max-width:4em;box-sizing:border-box}
table.rows .pin2{left:4em;box-shadow:inset -2px 0 0 #c3c8d2}
table.rows tr.deleted td{background:#fbeaea}
table.rows td[title]{text-decoration:underline dotted #9aa3b2}
table.rows td[data-col]{cursor:cell}
table.rows td.editing{max-width:none;overflow:visible}
.cell-edit{display:flex;gap:.4em;align-items:center}.cell-edit textarea{min-height:4em;width:24em}
pre.value{margin:0;white-space:pre-wrap;font-size:.95em}
details.columns form div{display:flex;flex-wrap:wrap;gap:.2em 1em;margin:.3em 0}
details.columns{margin:.4em 0}
.null{color:#8a8f99;font-style:italic}tr.deleted td{background:#fbeaea}
.error{background:#fdecea;border:1px solid #e0a8a3;padding:.6em;white-space:pre-wrap}
.notice{background:#eaf6ec;border:1px solid #9fd2a9;padding:.6em}
pre.sql{background:#fff;border:1px solid #d6d9e0;padding:.6em;white-space:pre-wrap}
form.inline{display:inline}textarea{width:100%;min-height:8em;font-family:monospace}
fieldset{border:1px solid #d6d9e0;background:#fff;margin:.4em 0}
.muted{color:#6b7280}nav.pager a{margin-right:1em}
section.schema{border-top:1px solid #d6d9e0;margin-top:1em}
section.schema h3{font-size:1em;margin:.6em 0 .2em}
ul.plan{list-style:none;padding-left:1.2em;border-left:1px dotted #c3c8d2;margin:.2em 0}
ul.plan>li{margin:.3em 0}.plan .node{font-weight:600}.plan .rel{color:#2f5f9f}
.plan .figures{color:#4b5563;font-size:.92em}.plan .detail{color:#6b7280;font-size:.9em}
"""

#: The grid's script (``/static/studio.js``): pages work without it.
SCRIPT = resources.files("codex_db.studio").joinpath("static/studio.js").read_bytes()


def e(value: object) -> Html:
    """*value* as escaped text (quotes included, so it is safe in attributes)."""
    return Html(html.escape(str(value), quote=True))


def href(path: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """A URL for *path* (each segment percent-encoded) and query *params*."""
    quoted = quote(path, safe="/")
    query = urlencode(list(params))
    return f"{quoted}?{query}" if query else quoted


def table_href(key: str, suffix: str = "", params: Iterable[tuple[str, str]] = ()) -> str:
    """The URL of table *key*'s page (or *suffix* below it): the key is one path segment."""
    query = urlencode(list(params))
    path = f"/t/{quote(key, safe='')}{suffix}"
    return f"{path}?{query}" if query else path


def link(url: str, text: object, *, title: str = "") -> Html:
    """An ``<a>`` to *url* (from `href`) showing *text*."""
    extra = f' title="{e(title)}"' if title else ""
    return Html(f'<a href="{e(url)}"{extra}>{e(text)}</a>')


def value_cell(value: str | None, *, limit: int = 120, url: str | None = None) -> Html:
    """A table cell for a text value: ``null`` in grey, long values cut, optional link."""
    if value is None:
        return Html('<td class="null">null</td>')
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    inner = link(url, shown) if url else e(shown)
    return Html(f"<td>{inner}</td>")


def grid(
    headers: Sequence[Html | str],
    rows: Iterable[Sequence[Html]],
    classes: Sequence[str] | None = None,
    *,
    css_class: str = "",
) -> Html:
    """A table with *headers* (escaped unless `Html`), rows of ready cells, optional row classes.

    ``css_class="rows"`` keeps each row on one line (long values cut), in a
    horizontally scrolling box: use it for lists of rows.
    """
    head = "".join(f"<th>{h if isinstance(h, Html) else e(h)}</th>" for h in headers)
    body = "".join(
        (f'<tr class="{e(classes[i])}">' if classes and classes[i] else "<tr>")
        + f"{''.join(cells)}</tr>"
        for i, cells in enumerate(rows)
    )
    table = f'<table class="{e(css_class)}">' if css_class else "<table>"
    markup = f"{table}<tr>{head}</tr>{body}</table>"
    return Html(f'<div class="scroll">{markup}</div>' if css_class == "rows" else markup)


def hidden(name: str, value: str) -> Html:
    """A hidden form field."""
    return Html(f'<input type="hidden" name="{e(name)}" value="{e(value)}">')


def button_form(action: str, label: str, fields: Iterable[tuple[str, str]], csrf: str) -> Html:
    """A POST form that is only a button (and hidden fields)."""
    inputs = "".join(hidden(k, v) for k, v in [("csrf", csrf), *fields])
    return Html(
        f'<form class="inline" method="post" action="{e(action)}">{inputs}'
        f"<button>{e(label)}</button></form>"
    )


def page(title: str, body: Html, *, database: str, write: bool, status: int = 200) -> Response:
    """The full HTML page: header with navigation, database and mode, then *body*."""
    mode = (
        '<span class="mode write">write</span>' if write else '<span class="mode">read-only</span>'
    )
    nav = " ".join(
        link(url, text)
        for url, text in (
            ("/", "Tables"),
            ("/sql", "SQL console"),
            ("/schema", "Schema"),
            ("/triggers", "Triggers"),
            ("/migrations", "Migrations"),
        )
    )
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)} · codex-db studio</title>"
        f'<link rel="stylesheet" href="/static/studio.css">'
        f'<script src="/static/studio.js" defer></script></head><body>'
        f"<header><strong>codex-db studio</strong>{nav}{mode}"
        f'<span class="db">{e(database)}</span></header>'
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )
    return Response(document.encode(), status=status)
