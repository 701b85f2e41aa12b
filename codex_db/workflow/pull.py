"""``codex-db pull``: write ``sql/`` from an existing database (Drizzle Kit's ``pull``).

Use it to adopt a database built by other means, such as the live database the
TypeScript package migrated with Drizzle: ``pull`` writes the declarative schema,
``gen --check`` shows whether ``migrations/`` build the same, and ``mark`` records
them as applied. The files follow this project's style: one ``CREATE TABLE`` per
table with its named constraints inline, then its indexes; enums, domains,
functions, views and triggers in files of their own, in an order that loads:

- ``00_types.sql``: schemas, extensions, enums, domains, composite types, sequences;
- ``10_functions.sql``: functions and procedures (bodies checked at call time);
- ``20_tables.sql``: tables, parents before children (a foreign key that closes a
  cycle is added after the tables), sequence ownership, indexes;
- ``30_views.sql`` and ``40_triggers.sql``.

Everything is read from PostgreSQL's own deparsers (``pg_get_constraintdef``,
``pg_get_indexdef``, ``pg_get_functiondef``...), so a database built from the
files has the same catalog (`codex_db.workflow.catalog`) as the one pulled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import psycopg

from codex_db._dsn import direct_url
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow.catalog import IGNORED_TABLES

__all__ = ["PullError", "Pulled", "pull", "render"]

_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"
)
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"


class PullError(CodexDBError):
    """The database holds something ``pull`` cannot write yet, or ``sql/`` is not empty."""


class Pulled(msgspec.Struct, frozen=True):
    """The files `pull()` wrote and what they hold."""

    files: list[Path]
    counts: dict[str, int]


def pull(url: str, project: Project, *, replace: bool = False) -> Pulled:
    """Write the schema of the database at *url* into *project*'s ``sql/``.

    ``sql/`` must be empty unless *replace*, which deletes its ``*.sql`` first.
    """
    existing = sorted(project.sql.glob("*.sql")) if project.sql.is_dir() else []
    if existing and not replace:
        raise PullError(
            f"{project.sql} already holds {len(existing)} file(s): pass --replace to write"
            " the pulled schema instead (they are deleted), or pull into an empty project"
        )
    with psycopg.connect(direct_url(url)) as conn:
        files, counts = render(conn)
    project.sql.mkdir(parents=True, exist_ok=True)
    for path in existing:
        path.unlink()
    written: list[Path] = []
    for name, text in files.items():
        path = project.sql / name
        path.write_text(text)
        written.append(path)
    return Pulled(written, counts)


def render(conn: psycopg.Connection[Any]) -> tuple[dict[str, str], dict[str, int]]:
    """File name -> SQL text of the schema *conn* is connected to, and counts per kind."""
    _refuse_unsupported(conn)
    counts: dict[str, int] = {}
    sections: dict[str, list[str]] = {
        "00_types.sql": _schemas(conn) + _extensions(conn) + _types(conn) + _sequences(conn),
        "10_functions.sql": _functions(conn),
        "20_tables.sql": _tables(conn) + _ownership(conn) + _indexes(conn, "r"),
        "30_views.sql": _views(conn) + _indexes(conn, "m"),
        "40_triggers.sql": _triggers(conn),
    }
    files: dict[str, str] = {}
    for name, statements in sections.items():
        counts[name.split("_", 1)[1].removesuffix(".sql")] = len(statements)
        if not statements:
            continue
        head = _HEADERS[name]
        files[name] = head + "\n\n" + "\n\n".join(statements) + "\n"
    return files, counts


_HEADERS = {
    "00_types.sql": "-- Pulled by `codex-db pull`: schemas, extensions, types and sequences.",
    "10_functions.sql": (
        "-- Pulled by `codex-db pull`: functions and procedures.\n"
        "-- Their bodies are checked when they run, not here (tables come later).\n"
        "SET check_function_bodies = off;"
    ),
    "20_tables.sql": "-- Pulled by `codex-db pull`: tables with their constraints, then indexes.",
    "30_views.sql": "-- Pulled by `codex-db pull`: views.",
    "40_triggers.sql": "-- Pulled by `codex-db pull`: triggers.",
}


def _refuse_unsupported(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        f"""SELECT n.nspname || '.' || c.relname,
                   CASE WHEN c.relkind = 'p' OR c.relispartition THEN 'a partitioned table'
                        WHEN c.relkind = 'f' THEN 'a foreign table'
                        ELSE 'a table with inheritance' END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {_USER_SCHEMAS}
              AND (c.relkind IN ('p', 'f') OR c.relispartition
                   OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))"""
    ).fetchall()
    if rows:
        listed = ", ".join(f"{name} ({what})" for name, what in rows)
        raise PullError(f"pull cannot write these yet: {listed}; write them in sql/ by hand")


def _schemas(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        f"""SELECT quote_ident(n.nspname) FROM pg_namespace n
            WHERE {_USER_SCHEMAS} AND n.nspname <> 'public'
              AND {_NOT_EXTENSION.format(oid="n.oid")}
            ORDER BY 1"""
    ).fetchall()
    return [f"CREATE SCHEMA {name};" for (name,) in rows]


def _extensions(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        """SELECT quote_ident(e.extname), n.nspname, quote_ident(n.nspname)
           FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
           WHERE e.extname <> 'plpgsql' ORDER BY e.oid"""
    ).fetchall()
    return [
        f"CREATE EXTENSION IF NOT EXISTS {name}"
        + ("" if schema == "public" else f" WITH SCHEMA {quoted}")
        + ";"
        for name, schema, quoted in rows
    ]


def _types(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        f"""SELECT t.oid, t.typtype::text, {_qualified("n", "t.typname")},
                   (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                      FROM pg_enum e WHERE e.enumtypid = t.oid),
                   format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                   (SELECT string_agg(quote_ident(a.attname) || ' '
                                      || format_type(a.atttypid, a.atttypmod), ', '
                                      ORDER BY a.attnum)
                      FROM pg_attribute a
                      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE {_USER_SCHEMAS} AND {_NOT_EXTENSION.format(oid="t.oid")}
              AND (t.typtype IN ('e', 'd')
                   OR (t.typtype = 'c'
                       AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
            ORDER BY t.oid"""
    ).fetchall()
    statements: list[str] = []
    for oid, kind, name, labels, base, not_null, default, fields in rows:
        if kind == "e":
            statements.append(f"CREATE TYPE {name} AS ENUM ({labels or ''});")
        elif kind == "c":
            statements.append(f"CREATE TYPE {name} AS ({fields or ''});")
        else:
            statements.append(_domain(conn, oid, name, base, not_null, default))
    return statements


def _domain(
    conn: psycopg.Connection[Any],
    oid: int,
    name: str,
    base: str,
    not_null: bool,
    default: str | None,
) -> str:
    checks = conn.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contypid = %s AND contype = 'c' ORDER BY conname",
        (oid,),
    ).fetchall()
    parts = [f"CREATE DOMAIN {name} AS {base}"]
    if default is not None:
        parts.append(f"DEFAULT {default}")
    if not_null:
        parts.append("NOT NULL")
    parts += [f"CONSTRAINT {c} {d}" for c, d in checks]
    return "\n    ".join(parts) + ";"


def _sequences(conn: psycopg.Connection[Any]) -> list[str]:
    """Sequences not created by an identity column (serial ones are owned after the tables)."""
    rows = conn.execute(
        f"""SELECT {_qualified("n", "c.relname")}, format_type(s.seqtypid, NULL),
                   s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, s.seqcycle
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {_USER_SCHEMAS}
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                              AND d.deptype = 'i')
            ORDER BY c.oid"""
    ).fetchall()
    return [
        f"CREATE SEQUENCE {name} AS {kind} INCREMENT BY {step} MINVALUE {low} MAXVALUE {high}"
        f" START WITH {start} CACHE {cache}{' CYCLE' if cycle else ''};"
        for name, kind, step, low, high, start, cache, cycle in rows
    ]


def _functions(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        f"""SELECT p.prokind::text, n.nspname || '.' || p.proname, pg_get_functiondef(p.oid)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE {_USER_SCHEMAS} AND {_NOT_EXTENSION.format(oid="p.oid")}
            ORDER BY p.oid"""
    ).fetchall()
    unsupported = [name for kind, name, _ in rows if kind not in ("f", "p")]
    if unsupported:
        raise PullError(
            f"pull cannot write aggregates or window functions yet: {', '.join(unsupported)}"
        )
    return [definition.rstrip() + ";" for _, _, definition in rows]


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    tables = conn.execute(
        f"""SELECT c.oid, {_qualified("n", "c.relname")}, c.relpersistence::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND {_USER_SCHEMAS} AND NOT c.relname = ANY(%s)
            ORDER BY c.oid""",
        (list(IGNORED_TABLES),),
    ).fetchall()
    parents = {
        oid: {
            r
            for (r,) in conn.execute(
                "SELECT confrelid FROM pg_constraint WHERE conrelid = %s AND contype = 'f'",
                (oid,),
            ).fetchall()
        }
        for oid, _, _ in tables
    }
    order = _parents_first([oid for oid, _, _ in tables], parents)
    names = {oid: (name, persistence) for oid, name, persistence in tables}
    created: set[int] = set()
    statements: list[str] = []
    later: list[str] = []
    for oid in order:
        name, persistence = names[oid]
        body, deferred = _table_body(conn, oid, name, created)
        kind = "UNLOGGED TABLE" if persistence == "u" else "TABLE"
        statements.append(f"CREATE {kind} {name} (\n    " + ",\n    ".join(body) + "\n);")
        later += deferred
        created.add(oid)
    return statements + later


def _table_body(
    conn: psycopg.Connection[Any], oid: int, name: str, created: set[int]
) -> tuple[list[str], list[str]]:
    columns = conn.execute(
        """SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
                  CASE WHEN a.attcollation <> t.typcollation
                       THEN (SELECT quote_ident(collname) FROM pg_collation
                             WHERE oid = a.attcollation) END
           FROM pg_attribute a
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""",
        (oid,),
    ).fetchall()
    body = [_column(*column) for column in columns]
    constraints = conn.execute(
        """SELECT quote_ident(conname), pg_get_constraintdef(oid), contype::text, confrelid
           FROM pg_constraint
           WHERE conrelid = %s AND contype IN ('p', 'u', 'c', 'f', 'x')
           ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'f' THEN 2 ELSE 3 END,
                    conname""",
        (oid,),
    ).fetchall()
    deferred: list[str] = []
    for constraint, definition, kind, referenced in constraints:
        if kind == "f" and referenced not in created and referenced != oid:
            deferred.append(f"ALTER TABLE {name} ADD CONSTRAINT {constraint} {definition};")
        else:
            body.append(f"CONSTRAINT {constraint} {definition}")
    return body, deferred


def _column(
    name: str,
    kind: str,
    not_null: bool,
    default: str | None,
    identity: str,
    generated: str,
    collation: str | None,
) -> str:
    parts = [name, kind]
    if collation:
        parts.append(f"COLLATE {collation}")
    if generated and default is not None:
        how = "STORED" if generated == "s" else "VIRTUAL"  # PostgreSQL 18 has virtual ones
        parts.append(f"GENERATED ALWAYS AS ({default}) {how}")
    elif identity:
        parts.append(
            "GENERATED ALWAYS AS IDENTITY"
            if identity == "a"
            else "GENERATED BY DEFAULT AS IDENTITY"
        )
    if not_null:
        parts.append("NOT NULL")
    if default is not None and not generated:
        parts.append(f"DEFAULT {default}")
    return " ".join(parts)


def _ownership(conn: psycopg.Connection[Any]) -> list[str]:
    """``ALTER SEQUENCE ... OWNED BY`` for serial columns (identity sequences are implicit)."""
    rows = conn.execute(
        f"""SELECT {_qualified("sn", "s.relname")}, {_qualified("tn", "t.relname")},
                   quote_ident(a.attname)
            FROM pg_depend d
            JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            WHERE d.deptype = 'a' AND d.classid = 'pg_class'::regclass
              AND {_USER_SCHEMAS.replace("n.nspname", "sn.nspname")}
            ORDER BY s.oid"""
    ).fetchall()
    return [f"ALTER SEQUENCE {seq} OWNED BY {table}.{column};" for seq, table, column in rows]


def _indexes(conn: psycopg.Connection[Any], relkind: str) -> list[str]:
    """The indexes (not those of constraints) of tables (``r``) or materialized views (``m``)."""
    rows = conn.execute(
        f"""SELECT pg_get_indexdef(i.indexrelid), n.nspname
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {_USER_SCHEMAS} AND t.relkind = %s AND NOT t.relname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                              AND k.contype IN ('p', 'u', 'x'))
            ORDER BY t.oid, c.relname""",
        (relkind, list(IGNORED_TABLES)),
    ).fetchall()
    return [_pretty_index(definition, schema) + ";" for definition, schema in rows]


def _pretty_index(definition: str, schema: str) -> str:
    """``ON public.t USING btree (...)`` written as the project does: ``ON t (...)``."""
    text = definition
    if schema == "public":
        text = text.replace(" ON public.", " ON ", 1).replace(" ON ONLY public.", " ON ONLY ", 1)
    return text.replace(" USING btree (", " (", 1)


def _views(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        f"""SELECT c.relkind::text, {_qualified("n", "c.relname")}, pg_get_viewdef(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('v', 'm') AND {_USER_SCHEMAS}
              AND {_NOT_EXTENSION.format(oid="c.oid")}
            ORDER BY c.oid"""
    ).fetchall()
    return [
        f"CREATE {'MATERIALIZED VIEW' if kind == 'm' else 'VIEW'} {name} AS\n"
        + definition.rstrip().rstrip(";")
        + ";"
        for kind, name, definition in rows
    ]


def _triggers(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        f"""SELECT pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND {_USER_SCHEMAS}
            ORDER BY c.oid, t.tgname"""
    ).fetchall()
    return [definition + ";" for (definition,) in rows]


def _parents_first(oids: list[int], parents: dict[int, set[int]]) -> list[int]:
    ordered: list[int] = []
    pending = list(oids)
    while pending:
        ready = [
            o for o in pending if all(p == o or p in ordered or p not in oids for p in parents[o])
        ]
        for oid in ready or pending[:1]:  # a cycle: its closing foreign key is added after
            ordered.append(oid)
            pending.remove(oid)
    return ordered


def _qualified(namespace: str, name: str) -> str:
    """SQL for ``schema.name`` quoted as needed, the schema left out when it is public."""
    return (
        f"CASE WHEN {namespace}.nspname = 'public' THEN quote_ident({name})"
        f" ELSE quote_ident({namespace}.nspname) || '.' || quote_ident({name}) END"
    )
