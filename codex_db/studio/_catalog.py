"""The studio's view of the schema, read from ``pg_catalog`` on every request.

Every table and column name that arrives from the browser is looked up here
before it is used; only names found in the catalog reach SQL, and then only as
`psycopg.sql.Identifier`.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg import sql

from codex_db.studio._http import HTTPError
from codex_db.workflow.catalog import IGNORED_TABLES

__all__ = ["Catalog", "Column", "ForeignKey", "Table", "ident", "load_catalog"]

_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
    " AND n.nspname NOT LIKE 'pg_temp%%'"
)

_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, n.nspname = current_schema()
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SCHEMAS}
  AND NOT (c.relname = ANY(%(ignored)s) AND n.nspname = current_schema())
ORDER BY n.nspname <> current_schema(), n.nspname, c.relname
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       t.typcategory::text
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT k.conrelid, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.confrelid,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS x(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.num
             ORDER BY x.ord),
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS x(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.num
             ORDER BY x.ord)
FROM pg_constraint k
WHERE k.conrelid = ANY(%(oids)s)
ORDER BY k.conrelid, k.contype <> 'p', k.conname
"""

_INDEXES = """
SELECT x.indrelid, i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = ANY(%(oids)s)
ORDER BY x.indrelid, i.relname
"""

_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign"}


class Column(msgspec.Struct, frozen=True):
    """One column: its name, SQL type and what the forms need to know."""

    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str
    generated: str
    category: str
    """``pg_type.typcategory``: ``N`` numeric, ``D`` date/time, ``S`` string, ``B`` boolean..."""

    @property
    def has_range(self) -> bool:
        """Whether range filters (at least, at most) make sense: numbers and dates."""
        return self.category in ("N", "D")

    @property
    def writable(self) -> bool:
        """Whether INSERT and UPDATE may set it (not generated, not ``GENERATED ALWAYS``)."""
        return not self.generated and self.identity != "a"


class ForeignKey(msgspec.Struct, frozen=True):
    """A foreign key of one table: its columns and the table and columns they reference."""

    name: str
    columns: tuple[str, ...]
    target: str
    """The key of the referenced table in the `Catalog`."""
    target_columns: tuple[str, ...]


class Constraint(msgspec.Struct, frozen=True):
    """A constraint as ``pg_get_constraintdef`` prints it."""

    name: str
    kind: str
    definition: str


class Index(msgspec.Struct, frozen=True):
    """An index as ``pg_get_indexdef`` prints it."""

    name: str
    definition: str


class Table(msgspec.Struct, frozen=True):
    """A table (or view) of the database, with everything the pages show about it."""

    key: str
    """The name used in URLs: ``relname`` in the current schema, else ``schema.relname``."""
    schema: str
    name: str
    kind: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    constraints: tuple[Constraint, ...]
    indexes: tuple[Index, ...]

    @property
    def ident(self) -> sql.Composable:
        """The quoted, schema-qualified name to compose into SQL (see `ident()`)."""
        return ident(self.schema, self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(c.name for c in self.columns)

    @property
    def soft_delete(self) -> bool:
        """Whether rows are soft-deleted (the table has a ``deleted_at`` column)."""
        return "deleted_at" in self.column_names

    @property
    def editable(self) -> bool:
        """Whether rows can be edited: a plain table with a primary key."""
        return self.kind == "table" and bool(self.primary_key)

    def column(self, name: str) -> Column:
        """The column *name*; an unknown name is a 400 error and never reaches SQL."""
        for column in self.columns:
            if column.name == name:
                return column
        raise HTTPError(400, f"unknown column {name!r} of table {self.key!r}")

    def link_of(self, column: str) -> ForeignKey | None:
        """The single- or multi-column foreign key whose first column is *column*."""
        return next((fk for fk in self.foreign_keys if fk.columns[0] == column), None)


class Catalog(msgspec.Struct, frozen=True):
    """Every table of the database by key: the allow-list for names from the UI."""

    tables: dict[str, Table]

    def table(self, key: str) -> Table:
        """The table *key*; an unknown name is a 404 error and never reaches SQL."""
        found = self.tables.get(key)
        if found is None:
            raise HTTPError(404, f"unknown table {key!r}")
        return found

    def referencing(self, key: str) -> list[tuple[Table, ForeignKey]]:
        """The foreign keys (and their tables) that reference table *key*."""
        return [
            (table, fk)
            for table in self.tables.values()
            for fk in table.foreign_keys
            if fk.target == key
        ]


def ident(*names: str) -> sql.Composable:
    """*names* quoted as one (qualified) identifier, as `psycopg.sql.Identifier` quotes it.

    A ``%`` in a name is doubled, so psycopg's placeholder parser reads it as a
    percent sign: always pass a parameter list (even ``[]``) to a statement
    containing it.
    """
    return sql.SQL(sql.Identifier(*names).as_string(None).replace("%", "%%"))


def load_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    """Read the tables, columns, constraints and indexes of the database at *conn*."""
    rels = conn.execute(_TABLES, {"ignored": list(IGNORED_TABLES)}).fetchall()
    keys = {
        oid: (name if current else f"{schema}.{name}") for oid, schema, name, _, current in rels
    }
    params = {"oids": list(keys)}
    columns = _group(conn.execute(_COLUMNS, params).fetchall())
    constraints = _group(conn.execute(_CONSTRAINTS, params).fetchall())
    indexes = _group(conn.execute(_INDEXES, params).fetchall())
    tables = {}
    for oid, schema, name, kind, _ in rels:
        cons = constraints.get(oid, [])
        tables[keys[oid]] = Table(
            key=keys[oid],
            schema=schema,
            name=name,
            kind=_KINDS[kind],
            columns=tuple(Column(*row) for row in columns.get(oid, [])),
            primary_key=next((tuple(c[4]) for c in cons if c[1] == "p"), ()),
            foreign_keys=tuple(_foreign_keys(cons, keys)),
            constraints=tuple(Constraint(c[0], c[1], c[2]) for c in cons),
            indexes=tuple(Index(*row) for row in indexes.get(oid, [])),
        )
    return Catalog(tables)


def _group(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for oid, *rest in rows:
        grouped.setdefault(oid, []).append(tuple(rest))
    return grouped


def _foreign_keys(cons: list[tuple[Any, ...]], keys: dict[int, str]) -> list[ForeignKey]:
    return [
        ForeignKey(name, tuple(cols), keys[target], tuple(target_cols))
        for name, kind, _, target, cols, target_cols in cons
        if kind == "f" and target in keys
    ]
