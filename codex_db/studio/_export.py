"""Exporting the filtered view of a table as CSV or JSON, streamed and bounded.

``/t/<table>/export?format=csv`` (or ``json``) takes the table page's
filters, sort and soft-delete mode and sends the matching rows, at most
`Context.export_rows` of them, read from a server-side cursor a batch at a
time, so neither the studio nor the browser holds more than a batch. Values
are PostgreSQL's text, as on the pages.

CSV quotes every value and leaves NULL unquoted and empty (``""`` is the
empty string), as ``COPY ... CSV FORCE_QUOTE *`` does. JSON is one object:
``{"columns": [...], "rows": [[...], ...], "truncated": false}``, where
``truncated`` says the limit cut the export short.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast

import msgspec

from codex_db.studio._browse import Row, parse_browse, select_matching
from codex_db.studio._catalog import Table, load_catalog
from codex_db.studio._context import Context
from codex_db.studio._http import HTTPError, Request, Response

__all__ = ["BATCH_ROWS", "FORMATS", "export_page"]

#: Format name -> content type.
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
BATCH_ROWS = 1000

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def export_page(ctx: Context, request: Request, key: str) -> Response:
    """``/t/<table>/export``: the rows the table page's filters select, as a download.

    The first batch is read before answering, so an unknown column, a bad
    filter value or a page timeout is an error page, not a broken file.
    """
    fmt = request.arg("format", "csv")
    if fmt not in FORMATS:
        raise HTTPError(400, f"unknown export format {fmt!r}: expected csv or json")
    chunks = _chunks(ctx, request, key, fmt)
    first = next(chunks)
    filename = f"{_UNSAFE_FILENAME.sub('_', key)}.{fmt}"
    return Response(
        first,
        content_type=FORMATS[fmt],
        headers=[("Content-Disposition", f'attachment; filename="{filename}"')],
        stream=chunks,
    )


def _chunks(ctx: Context, request: Request, key: str, fmt: str) -> Iterator[bytes]:
    """The export, a batch of rows per chunk; the connection closes with the generator."""
    with ctx.connect() as conn, conn.transaction():
        table = load_catalog(conn).table(key)
        query, params = select_matching(table, parse_browse(table, request), ctx.export_rows + 1)
        with conn.cursor(name="studio_export") as cursor:
            cursor.execute(query, params)
            limit = ctx.export_rows
            batch = cast(list[Row], cursor.fetchmany(BATCH_ROWS))
            yield _start(table, fmt) + _rows(batch[:limit], fmt, first=True)
            read = len(batch)  # the query asks for one row more than the limit
            while batch and read <= limit:
                batch = cast(list[Row], cursor.fetchmany(BATCH_ROWS))
                yield _rows(batch[: max(limit - read, 0)], fmt, first=False)
                read += len(batch)
            yield _end(fmt, truncated=read > limit)


def _start(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return _csv_line(tuple(table.column_names))
    return b'{"columns":' + msgspec.json.encode(table.column_names) + b',"rows":['


def _rows(rows: list[Row], fmt: str, *, first: bool) -> bytes:
    if fmt == "csv":
        return b"".join(_csv_line(row) for row in rows)
    encoded = [msgspec.json.encode(row) for row in rows]
    return (b"" if first or not encoded else b",") + b",".join(encoded)


def _end(fmt: str, *, truncated: bool) -> bytes:
    if fmt == "csv":
        return b""
    return b'],"truncated":' + (b"true" if truncated else b"false") + b"}"


def _csv_line(values: tuple[str | None, ...]) -> bytes:
    cells = ("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)
    return (",".join(cells) + "\r\n").encode()
