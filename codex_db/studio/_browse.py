"""Reading rows of one table: filters, sort, soft-delete toggle and pagination.

Values travel as PostgreSQL text both ways: every column is selected as
``::text`` and every value from the UI is bound with psycopg's ``%t``
placeholder (text of unknown type), so the server parses it as the column's
own type. Pagination is keyset on ``(sort column, primary key)`` when the table
has a primary key, both ways (``after`` the last row of a page, ``before``
its first), else by offset. Counts are exact up to a limit and the planner's
estimate above it.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg import sql

from codex_db.studio._catalog import Table, ident
from codex_db.studio._http import HTTPError, Request

__all__ = [
    "COUNT_TIMEOUT_MS",
    "DELETED_MODES",
    "EXACT_COUNT_LIMIT",
    "MAX_PAGE_SIZE",
    "OPERATORS",
    "PAGE_SIZE",
    "Browse",
    "Count",
    "Filter",
    "Page",
    "Row",
    "count_rows",
    "estimate_rows",
    "fetch_page",
    "fetch_row",
    "key_condition",
    "parse_browse",
    "select_matching",
    "shorten_statement_timeout",
]

#: Filter operators: URL name -> label.
OPERATORS = {
    "eq": "=",
    "ne": "≠",
    "contains": "contains",
    "gte": "≥",
    "lte": "≤",
    "null": "is null",
    "notnull": "is not null",
}

#: Soft-delete modes of ``?deleted=``: hidden (default), shown with the others, or only them.
DELETED_MODES = ("hide", "show", "only")

PAGE_SIZE = 50
COUNT_TIMEOUT_MS = 3000
MAX_PAGE_SIZE = 500
#: Above this many rows (the planner's estimate), a count is the estimate, shown ``~N``.
EXACT_COUNT_LIMIT = 500_000

Row = tuple[str | None, ...]


class Filter(msgspec.Struct, frozen=True):
    """One condition on a column: ``column op value`` (value unused by null tests)."""

    column: str
    op: str
    value: str = ""


class Browse(msgspec.Struct, frozen=True):
    """What the table page asked for; every column name in it was checked."""

    sort: str | None = None
    desc: bool = False
    filters: tuple[Filter, ...] = ()
    deleted: str = "hide"
    after: tuple[str | None, ...] | None = None
    before: tuple[str | None, ...] | None = None
    """The cursor of a "previous page": rows just before it (``after`` is then ``None``)."""
    offset: int = 0
    limit: int = PAGE_SIZE
    columns: tuple[str, ...] = ()
    """The columns to show, in table order (empty: all of them)."""


class Count(msgspec.Struct, frozen=True):
    """How many rows match: exact, or the planner's estimate (shown ``~N``)."""

    rows: int
    exact: bool = True

    def __str__(self) -> str:
        return str(self.rows) if self.exact else f"~{self.rows}"


class Page(msgspec.Struct, frozen=True):
    """One page of rows as text, the number of matching rows and where its neighbours start."""

    rows: list[Row]
    total: Count
    next_after: tuple[str | None, ...] | None = None
    """The cursor of the next page (keyset), ``None`` on the last page."""
    prev_before: tuple[str | None, ...] | None = None
    """The cursor of the previous page (keyset), ``None`` on the first page."""
    next_offset: int | None = None
    prev_offset: int | None = None


def parse_browse(table: Table, request: Request) -> Browse:
    """The `Browse` of *request*'s query string; unknown columns or operators are a 400 error."""
    sort = request.arg("sort") or None
    if sort is not None:
        table.column(sort)
    deleted = request.arg("deleted", "hide")
    if deleted not in DELETED_MODES:
        raise HTTPError(400, f"unknown deleted mode {deleted!r}: expected hide, show or only")
    return Browse(
        sort=sort,
        desc=request.arg("dir") == "desc",
        filters=_filters(table, request),
        deleted=deleted,
        after=_cursor_arg(table, sort, request.arg("after")),
        before=None if request.arg("after") else _cursor_arg(table, sort, request.arg("before")),
        offset=_int(request.arg("offset", "0"), "offset", 0, 10**9),
        limit=_int(request.arg("limit", str(PAGE_SIZE)), "limit", 1, MAX_PAGE_SIZE),
        columns=_columns(table, request),
    )


def fetch_page(
    conn: psycopg.Connection[Any],
    table: Table,
    browse: Browse,
    *,
    exact_limit: int = EXACT_COUNT_LIMIT,
) -> Page:
    """The rows *browse* selects from *table*, one page of them, and the count of all of them.

    The count is exact when the planner expects at most *exact_limit* rows
    (and counting takes under `COUNT_TIMEOUT_MS`), else its estimate.
    """
    where, params = _where(table, browse)
    total = count_rows(conn, table, where, params, exact_limit=exact_limit)
    backwards = browse.before is not None
    keyset, keyset_params = _keyset(table, browse)
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY {} LIMIT {}{}").format(
        _select(table),
        table.ident,
        _and(where + keyset),
        _order(table, browse, reverse=backwards),
        sql.Literal(browse.limit + 1),
        sql.SQL("") if table.primary_key else sql.SQL(" OFFSET {}").format(browse.offset),
    )
    rows: list[Row] = conn.execute(query, params + keyset_params).fetchall()
    more = len(rows) > browse.limit
    rows = rows[: browse.limit]
    if not table.primary_key:
        return Page(
            rows,
            total,
            next_offset=browse.offset + browse.limit if more else None,
            prev_offset=max(browse.offset - browse.limit, 0) if browse.offset else None,
        )
    if backwards:
        rows.reverse()
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    has_next = more if not backwards else True
    has_prev = more if backwards else browse.after is not None
    return Page(
        rows,
        total,
        next_after=_cursor(table, browse, last) if has_next and last else None,
        prev_before=_cursor(table, browse, first) if has_prev and first else None,
    )


def select_matching(table: Table, browse: Browse, limit: int) -> tuple[sql.Composed, list[Any]]:
    """The query (and its parameters) for the first *limit* rows *browse* selects, in its order.

    Every page position in *browse* is ignored: use it to read the whole filtered view.
    """
    where, params = _where(table, browse)
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY {} LIMIT {}").format(
        _select(table), table.ident, _and(where), _order(table, browse), sql.Literal(limit)
    )
    return query, params


def count_rows(
    conn: psycopg.Connection[Any],
    table: Table,
    where: list[sql.Composable],
    params: list[Any],
    *,
    exact_limit: int = EXACT_COUNT_LIMIT,
) -> Count:
    """How many rows match *where*: exact up to *exact_limit*, else the planner's estimate.

    The estimate is also the answer when counting takes over `COUNT_TIMEOUT_MS`.
    """
    estimate = estimate_rows(conn, table, where, params)
    if estimate > exact_limit:
        return Count(estimate, exact=False)
    count = sql.SQL("SELECT count(*) FROM {}{}").format(table.ident, _and(where))
    try:
        with conn.transaction():
            shorten_statement_timeout(conn, COUNT_TIMEOUT_MS)
            row = conn.execute(count, params).fetchone()
    except psycopg.errors.QueryCanceled:
        return Count(estimate, exact=False)
    return Count(int(row[0]) if row else 0)


def estimate_rows(
    conn: psycopg.Connection[Any], table: Table, where: list[sql.Composable], params: list[Any]
) -> int:
    """The planner's idea of how many rows match *where*, without reading them.

    ``pg_class.reltuples`` for a whole analyzed table, else the row estimate
    of ``EXPLAIN`` (views, filters, tables never analyzed).
    """
    if not where and table.kind in ("table", "materialized view"):
        query = "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass"
        name = sql.Identifier(table.schema, table.name).as_string(conn)
        row = conn.execute(query, (name,)).fetchone()
        if row and int(row[0]) >= 0:
            return int(row[0])
    plan = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}{}").format(table.ident, _and(where))
    found = conn.execute(plan, params).fetchone()
    return int(found[0][0]["Plan"]["Plan Rows"]) if found else 0


def shorten_statement_timeout(conn: psycopg.Connection[Any], ms: int) -> None:
    """Lower ``statement_timeout`` to *ms* for the current transaction (never raise it).

    Use it inside a transaction for a query allowed less time than the page's.
    """
    conn.execute(
        "SELECT set_config('statement_timeout', (SELECT CASE WHEN setting::int = 0 THEN %s"
        " ELSE least(setting::int, %s) END FROM pg_settings WHERE name = 'statement_timeout')"
        "::text, true)",
        (ms, ms),
    )


def fetch_row(conn: psycopg.Connection[Any], table: Table, key: list[str]) -> Row:
    """The row of *table* whose primary key is *key* (as text); 404 when there is none."""
    if not table.primary_key or len(key) != len(table.primary_key):
        raise HTTPError(400, f"table {table.key!r} needs {len(table.primary_key)} key value(s)")
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        _select(table), table.ident, key_condition(table)
    )
    row: Row | None = conn.execute(query, key).fetchone()
    if row is None:
        raise HTTPError(404, f"no row of {table.key!r} has key {', '.join(key)}")
    return row


def key_condition(table: Table) -> sql.Composable:
    """``pk1 = %t AND pk2 = %t``: the primary-key match, parameters in key order."""
    return sql.SQL(" AND ").join(
        sql.SQL("{} = %t").format(ident(name)) for name in table.primary_key
    )


def _filters(table: Table, request: Request) -> tuple[Filter, ...]:
    columns, ops, values = request.args("fc"), request.args("fo"), request.args("fv")
    found = []
    for index, column in enumerate(columns):
        if not column:
            continue
        table.column(column)
        op = ops[index] if index < len(ops) else "eq"
        if op not in OPERATORS:
            raise HTTPError(400, f"unknown filter operator {op!r}")
        found.append(Filter(column, op, values[index] if index < len(values) else ""))
    return tuple(found)


def _columns(table: Table, request: Request) -> tuple[str, ...]:
    """The ``col`` fields, checked and in table order; none (or only blanks) means all."""
    chosen = {name for name in request.args("col") if name}
    for name in chosen:
        table.column(name)
    return tuple(name for name in table.column_names if name in chosen)


def _cursor_arg(table: Table, sort: str | None, text: str) -> tuple[str | None, ...] | None:
    if not text:
        return None
    size = len(table.primary_key) + (sort is not None)
    try:
        values = msgspec.json.decode(text, type=list[str | None])
    except msgspec.DecodeError:
        values = []
    if not table.primary_key or len(values) != size:
        raise HTTPError(400, "invalid page cursor: start again from the first page")
    return tuple(values)


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise HTTPError(400, f"{name} must be a whole number, got {text!r}") from None
    return min(max(value, low), high)


def _select(table: Table) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{}::text").format(ident(name)) for name in table.column_names
    )


def _where(table: Table, browse: Browse) -> tuple[list[sql.Composable], list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for item in browse.filters:
        part, value = _condition(item)
        parts.append(part)
        params.extend(value)
    if table.soft_delete and browse.deleted != "show":
        negate = "" if browse.deleted == "hide" else "NOT "
        parts.append(sql.SQL("{} IS {}NULL").format(ident("deleted_at"), sql.SQL(negate)))
    return parts, params


def _condition(item: Filter) -> tuple[sql.Composable, list[str]]:
    column = ident(item.column)
    if item.op == "null":
        return sql.SQL("{} IS NULL").format(column), []
    if item.op == "notnull":
        return sql.SQL("{} IS NOT NULL").format(column), []
    if item.op == "contains":
        escaped = item.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return sql.SQL("{}::text ILIKE %t").format(column), [f"%{escaped}%"]
    operator = {"eq": "=", "ne": "<>", "gte": ">=", "lte": "<="}[item.op]
    return sql.SQL("{} {} %t").format(column, sql.SQL(operator)), [item.value]


def _and(parts: list[sql.Composable]) -> sql.Composable:
    if not parts:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(sql.SQL("({})").format(p) for p in parts)


def _order(table: Table, browse: Browse, *, reverse: bool = False) -> sql.Composable:
    """The page order (nulls last), or with *reverse* its exact opposite (to read backwards).

    Columns are qualified with the table: a bare name in ``ORDER BY`` means the
    output column of that name, here its ``::text``, which would sort numbers
    as text (``10`` before ``9``) and never use an index.
    """
    direction = sql.SQL(" DESC" if browse.desc != reverse else "")
    nulls = sql.SQL(" NULLS FIRST" if reverse else " NULLS LAST")

    def column(name: str) -> sql.Composable:
        return ident(table.schema, table.name, name)

    terms: list[sql.Composable] = []
    if browse.sort is not None:
        terms.append(sql.SQL("{}{}{}").format(column(browse.sort), direction, nulls))
    terms.extend(sql.SQL("{}{}").format(column(k), direction) for k in table.primary_key)
    return sql.SQL(", ").join(terms) if terms else sql.SQL("1")


def _keyset(table: Table, browse: Browse) -> tuple[list[sql.Composable], list[Any]]:
    """The condition for rows after (or before) the cursor, in ``ORDER BY`` order (nulls last)."""
    cursor = browse.after if browse.after is not None else browse.before
    if cursor is None:
        return [], []
    before = browse.after is None
    pk = sql.SQL(", ").join(ident(k) for k in table.primary_key)
    marks = sql.SQL(", ").join(sql.SQL("%t") for _ in table.primary_key)
    cmp = sql.SQL("<" if browse.desc != before else ">")
    beyond_pk = sql.SQL("({}) {} ({})").format(pk, cmp, marks)
    if browse.sort is None:
        return [beyond_pk], list(cursor)
    column = ident(browse.sort)
    value, *key = cursor
    if value is None and before:  # every non-null value comes before the nulls
        part = sql.SQL("({c} IS NULL AND {pk}) OR {c} IS NOT NULL").format(c=column, pk=beyond_pk)
        return [part], key
    if value is None:
        return [sql.SQL("{} IS NULL AND {}").format(column, beyond_pk)], key
    template = "{c} {cmp} %t OR ({c} = %t AND {pk})" + ("" if before else " OR {c} IS NULL")
    part = sql.SQL(template).format(c=column, cmp=cmp, pk=beyond_pk)
    return [part], [value, value, *key]


def _cursor(table: Table, browse: Browse, last: Row) -> tuple[str | None, ...]:
    names = table.column_names
    key = [last[names.index(k)] for k in table.primary_key]
    if browse.sort is None:
        return tuple(key)
    return (last[names.index(browse.sort)], *key)
