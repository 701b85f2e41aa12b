"""A few rows in every table, so that a migration verified by ``gen`` is verified on data.

An empty database accepts what a real one refuses: ``ADD COLUMN ... NOT NULL``
without a default, ``SET NOT NULL`` over NULLs, a ``CHECK`` some rows break, a
cast a value does not survive. `fill()` inserts `ROWS` rows into every table
of a scratch database, parents before children, with values built from each
column's type, default and checks: defaults are used where there are any,
nullable columns get NULL (so NOT NULL changes meet a NULL), ``CHECK (col IN
(...))`` columns their first allowed value, foreign keys a parent's key. A
table it cannot fill is reported, not fatal.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import psycopg
from psycopg import sql

__all__ = ["ROWS", "Filled", "fill"]

#: Rows per table: enough for a unique index or a backfill to meet several rows.
ROWS = 3

_COLUMNS = """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typtype::text,
           a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
           (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
              FROM pg_enum e WHERE e.enumtypid = t.oid)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0
      AND NOT a.attisdropped AND NOT c.relname = ANY(%s)
    ORDER BY c.relname, a.attnum"""

_FOREIGN_KEYS = """
    SELECT c.relname, r.relname,
           (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.conkey) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.n),
           (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.confkey) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.n)
    FROM pg_constraint f
    JOIN pg_class c ON c.oid = f.conrelid
    JOIN pg_class r ON r.oid = f.confrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE f.contype = 'f' AND n.nspname = 'public'"""

_CHECKS = """
    SELECT c.relname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'c' AND n.nspname = 'public'"""

_ALLOWED = re.compile(r"\(\(?\(?(\w+)\)?(?:::\w+)? = ANY \(\(?ARRAY\['((?:[^']|'')*)'")


class Filled(msgspec.Struct, frozen=True):
    """What `fill()` did: rows per table, and the tables it could not fill (with why)."""

    rows: dict[str, int]
    skipped: dict[str, str]

    def describe(self) -> str:
        """One line: how many tables got rows, and which did not."""
        line = f"{sum(1 for n in self.rows.values() if n)} table(s) with {ROWS} sample row(s) each"
        if self.skipped:
            line += "; no rows in " + ", ".join(f"{t} ({why})" for t, why in self.skipped.items())
        return line


class _Column(msgspec.Struct, frozen=True):
    name: str
    type: str
    kind: str
    not_null: bool
    has_default: bool
    labels: str | None


def fill(url: str, ignored: tuple[str, ...]) -> Filled:
    """Insert `ROWS` rows into every table of the database at *url* (one transaction per table)."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = _columns(conn, ignored)
        references = _references(conn)
        allowed = _allowed_values(conn)
        rows: dict[str, int] = {}
        skipped: dict[str, str] = {}
        for table in _parents_first(columns, references):
            try:
                with conn.transaction():
                    for n in range(1, ROWS + 1):
                        _insert(conn, table, columns[table], references, allowed, n)
                rows[table] = ROWS
            except psycopg.Error as exc:
                rows[table] = 0
                skipped[table] = (exc.diag.message_primary or str(exc)).strip()
        return Filled(rows, skipped)


def _columns(conn: psycopg.Connection[Any], ignored: tuple[str, ...]) -> dict[str, list[_Column]]:
    found: dict[str, list[_Column]] = {}
    for table, *fields in conn.execute(_COLUMNS, (list(ignored),)).fetchall():
        found.setdefault(str(table), []).append(_Column(*fields))
    return found


def _references(
    conn: psycopg.Connection[Any],
) -> dict[str, list[tuple[str, list[str], list[str]]]]:
    found: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    for table, parent, mine, theirs in conn.execute(_FOREIGN_KEYS).fetchall():
        found.setdefault(str(table), []).append((str(parent), list(mine), list(theirs)))
    return found


def _allowed_values(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for table, definition in conn.execute(_CHECKS).fetchall():
        if match := _ALLOWED.search(str(definition)):
            found.setdefault((str(table), match.group(1)), match.group(2).replace("''", "'"))
    return found


def _parents_first(
    columns: dict[str, list[_Column]], references: dict[str, list[tuple[str, list[str], list[str]]]]
) -> list[str]:
    ordered: list[str] = []
    pending = sorted(columns)
    while pending:
        ready = [
            t
            for t in pending
            if all(p == t or p in ordered or p not in columns for p, _, _ in references.get(t, []))
        ]
        if not ready:  # a cycle: take them as they come, nullable keys get NULL
            ready = pending[:1]
        for table in ready:
            ordered.append(table)
            pending.remove(table)
    return ordered


def _insert(
    conn: psycopg.Connection[Any],
    table: str,
    columns: list[_Column],
    references: dict[str, list[tuple[str, list[str], list[str]]]],
    allowed: dict[tuple[str, str], str],
    n: int,
) -> None:
    keys = _parent_keys(conn, table, references, n)
    names: list[sql.Composable] = []
    values: list[sql.Composable] = []
    for column in columns:
        value = _value(table, column, keys, allowed, n)
        if value is None:
            continue
        names.append(sql.Identifier(column.name))
        values.append(value)
    query = (
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(names), sql.SQL(", ").join(values)
        )
        if names
        else sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(table))
    )
    conn.execute(query)


def _parent_keys(
    conn: psycopg.Connection[Any],
    table: str,
    references: dict[str, list[tuple[str, list[str], list[str]]]],
    n: int,
) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for parent, mine, theirs in references.get(table, []):
        if parent == table:
            continue
        query = sql.SQL("SELECT {} FROM {} ORDER BY 1 OFFSET %s LIMIT 1").format(
            sql.SQL(", ").join(map(sql.Identifier, theirs)), sql.Identifier(parent)
        )
        row = conn.execute(query, ((n - 1) % 3,)).fetchone()
        if row is not None:
            keys.update(zip(mine, row, strict=True))
    return keys


def _value(
    table: str,
    column: _Column,
    keys: dict[str, Any],
    allowed: dict[tuple[str, str], str],
    n: int,
) -> sql.Composable | None:
    """The value to insert, or ``None`` to leave the column to its default (or NULL)."""
    if column.name in keys:
        return sql.Literal(keys[column.name])
    if (table, column.name) in allowed:
        return sql.Literal(allowed[(table, column.name)])
    if column.has_default or not column.not_null:
        return None
    if column.kind == "e" and column.labels:
        return sql.SQL("{}::{}").format(
            sql.Literal(column.labels.split(",")[0]), sql.SQL(column.type)
        )
    return sql.SQL("{}::{}").format(sql.SQL(_literal_for(column, table, n)), sql.SQL(column.type))


def _literal_for(column: _Column, table: str, n: int) -> str:
    kind = column.type
    if kind.endswith("[]"):
        return "'{}'"
    if kind in ("smallint", "integer", "bigint", "real", "double precision") or kind.startswith(
        "numeric"
    ):
        return str(n)
    if kind == "boolean":
        return "false"
    if kind.startswith(("timestamp", "date", "time")):
        return "now()"
    if kind == "uuid":
        return "gen_random_uuid()"
    if kind in ("json", "jsonb"):
        return "'{}'"
    if kind == "bytea":
        return "'\\x00'"
    if kind in ("inet", "cidr"):
        return "'127.0.0.1'"
    if kind == "interval":
        return "'1 day'"
    text = f"{table}-{column.name}-{n}"
    if length := re.search(r"\((\d+)\)", kind):
        text = text[-int(length.group(1)) :]
    return "'" + text.replace("'", "''") + "'"
