"""Schema snapshots read from PostgreSQL's catalogs, and their comparison.

Use `snapshot()` on two databases and `compare()` the results to prove that
``migrations/`` and ``sql/`` build the same schema (the drift check), or that a
database matches the project before baselining it.

Two things never decide drift, so that every supported server gives the same
verdict: the physical order of columns (a migration can only append one, and
sqlc expands ``*`` into explicit column lists, so generated code does not
depend on it; `notes()` reports it as information), and PostgreSQL 18's named
NOT NULL constraints (``contype 'n'``: their names follow a column's first
name and survive a rename, and NOT NULL is already part of the column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from codex_db.project import Project

__all__ = [
    "IGNORED_TABLES",
    "INFORMATIONAL",
    "Snapshot",
    "apply_sql_dir",
    "compare",
    "notes",
    "snapshot",
]

#: yoyo's bookkeeping tables and codex-db's migration checksums: present only where
#: migrations ran.
IGNORED_TABLES = (
    "_yoyo_log",
    "_yoyo_migration",
    "_yoyo_version",
    "yoyo_lock",
    "_codex_migration_checksum",
    "_codex_migration_started",
)

#: Kinds a snapshot records for information only: `compare()` skips them, `notes()` reports them.
INFORMATIONAL = frozenset({"column_order"})

#: kind -> {object name -> definition}
Snapshot = dict[str, dict[str, str]]

_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
)

_QUERIES: dict[str, str] = {
    "table": f"""
        SELECT n.nspname || '.' || c.relname, c.relkind::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SCHEMAS}
          AND NOT c.relname = ANY(%(ignored)s)""",
    "column": f"""
        SELECT n.nspname || '.' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
               || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
               || CASE WHEN a.attgenerated <> '' THEN ' GENERATED' ELSE '' END
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND {_SCHEMAS} AND NOT c.relname = ANY(%(ignored)s)""",
    "constraint": f"""
        SELECT n.nspname || '.' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SCHEMAS} AND NOT c.relname = ANY(%(ignored)s) AND k.contype <> 'n'""",
    "column_order": f"""
        SELECT n.nspname || '.' || c.relname, string_agg(a.attname, ', ' ORDER BY a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
          AND {_SCHEMAS} AND NOT c.relname = ANY(%(ignored)s)
        GROUP BY 1""",
    "index": f"""
        SELECT n.nspname || '.' || i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace
        WHERE {_SCHEMAS} AND NOT c.relname = ANY(%(ignored)s)""",
    "trigger": f"""
        SELECT n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND {_SCHEMAS}""",
    "function": f"""
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid)
               || ')', pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {_SCHEMAS} AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                          WHERE dep.objid = p.oid AND dep.deptype = 'e')""",
    "view": f"""
        SELECT n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND {_SCHEMAS}""",
    "type": f"""
        SELECT n.nspname || '.' || t.typname,
               t.typtype::text || coalesce(' ' || (
                   SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                   FROM pg_enum e WHERE e.enumtypid = t.oid), '')
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype IN ('e', 'd', 'c', 'r') AND {_SCHEMAS}
          AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')""",
    "sequence": f"""
        SELECT n.nspname || '.' || c.relname, format_type(s.seqtypid, NULL)
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_SCHEMAS}""",
    "extension": "SELECT extname, extversion FROM pg_extension",
}


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Read the schema objects of the database *conn* is connected to.

    yoyo's bookkeeping tables are left out, so a migrated database and one
    built from ``sql/`` compare equal when their schemas are.
    """
    params = {"ignored": list(IGNORED_TABLES)}
    result: Snapshot = {}
    for kind, query in _QUERIES.items():
        rows = conn.execute(query, params).fetchall()
        result[kind] = {str(name): str(definition) for name, definition in rows}
    return result


def compare(
    expected: Snapshot, actual: Snapshot, *, labels: tuple[str, str] = ("a", "b")
) -> list[str]:
    """Return one readable line per difference between two snapshots (empty: identical)."""
    left, right = labels
    lines: list[str] = []
    for kind in sorted((expected.keys() | actual.keys()) - INFORMATIONAL):
        ours, theirs = expected.get(kind, {}), actual.get(kind, {})
        for name in sorted(ours.keys() - theirs.keys()):
            lines.append(f"{kind} {name}: only in {left}: {_short(ours[name])}")
        for name in sorted(theirs.keys() - ours.keys()):
            lines.append(f"{kind} {name}: only in {right}: {_short(theirs[name])}")
        for name in sorted(ours.keys() & theirs.keys()):
            if ours[name] != theirs[name]:
                lines.append(
                    f"{kind} {name}: differs\n  {left}: {_short(ours[name])}\n"
                    f"  {right}: {_short(theirs[name])}"
                )
    return lines


def notes(expected: Snapshot, actual: Snapshot) -> list[str]:
    """Informational differences (column order) between two snapshots, one line each."""
    lines: list[str] = []
    ours, theirs = expected.get("column_order", {}), actual.get("column_order", {})
    for table in sorted(ours.keys() & theirs.keys()):
        if ours[table] != theirs[table] and sorted(ours[table].split(", ")) == sorted(
            theirs[table].split(", ")
        ):
            lines.append(
                f"column order of {table} differs (not drift: queries name their columns):"
                f" {ours[table]} vs {theirs[table]}"
            )
    return lines


def apply_sql_dir(conn: psycopg.Connection[Any], folder: Path | None = None) -> list[Path]:
    """Run every ``*.sql`` file of *folder* (default ``sql/``) in file-name order.

    All files run in one transaction; returns the files applied. A failing
    statement names its file.
    """
    files = sorted((folder or Project.packaged().sql).glob("*.sql"))
    with conn.transaction():
        for path in files:
            _run_file(conn, path)
    return files


def _run_file(conn: psycopg.Connection[Any], path: Path) -> None:
    try:
        conn.execute(path.read_bytes())
    except psycopg.Error as exc:
        exc.add_note(f"while applying {path}")
        raise


def _short(definition: str, limit: int = 400) -> str:
    flat = " ".join(definition.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
