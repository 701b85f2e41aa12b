"""Does the schema carry what better-auth's core schema needs?

better-auth (the TypeScript auth library sharing this database) reads and
writes four tables. `check()` compares the auth tables of a database with
better-auth 1.3's core schema (``user``/``session``/``account``/
``verification``, mapped to ``users``/``sessions``/``accounts``/
``verification_tokens`` with snake_case columns) and reports each missing
column, wrong type class, nullability, uniqueness or foreign key. Use
`check_sql()` on ``sql/`` (it builds a scratch database) as ``codex-db gen:auth`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import msgspec
import psycopg

from codex_db.errors import CodexDBError
from codex_db.workflow.schemadiff import build_from_sql, scratch_database

__all__ = ["CORE_SCHEMA", "AuthSchemaError", "Field", "check", "check_sql"]

TypeClass = Literal["string", "boolean", "date"]


class AuthSchemaError(CodexDBError):
    """The auth tables lack something better-auth needs; the message lists each problem."""


class Field(msgspec.Struct, frozen=True):
    """One column better-auth needs: its type class, nullability, uniqueness and reference."""

    column: str
    type: TypeClass
    required: bool = True
    unique: bool = False
    references: tuple[str, str] | None = None
    """(table, column) of a foreign key that must cascade on delete."""


_ID = Field("id", "string", unique=True)
_STAMPS = (Field("created_at", "date"), Field("updated_at", "date"))
_USER_FK = Field("user_id", "string", references=("users", "id"))

#: table -> the fields better-auth 1.3 reads and writes (model names mapped as in the seed).
CORE_SCHEMA: dict[str, tuple[Field, ...]] = {
    "users": (
        _ID,
        Field("name", "string"),
        Field("email", "string", unique=True),
        Field("email_verified", "boolean"),
        Field("image", "string", required=False),
        *_STAMPS,
    ),
    "sessions": (
        _ID,
        Field("expires_at", "date"),
        Field("token", "string", unique=True),
        Field("ip_address", "string", required=False),
        Field("user_agent", "string", required=False),
        _USER_FK,
        *_STAMPS,
    ),
    "accounts": (
        _ID,
        Field("account_id", "string"),
        Field("provider_id", "string"),
        _USER_FK,
        *(
            Field(c, "string", required=False)
            for c in ("access_token", "refresh_token", "id_token")
        ),
        Field("access_token_expires_at", "date", required=False),
        Field("refresh_token_expires_at", "date", required=False),
        Field("scope", "string", required=False),
        Field("password", "string", required=False),
        *_STAMPS,
    ),
    "verification_tokens": (
        _ID,
        Field("identifier", "string"),
        Field("value", "string"),
        Field("expires_at", "date"),
        *_STAMPS,
    ),
}

_CATEGORY: dict[str, TypeClass] = {"S": "string", "B": "boolean", "D": "date"}

_COLUMNS = """
    SELECT c.relname, a.attname, t.typcategory::text, format_type(a.atttypid, a.atttypmod),
           a.attnotnull
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped"""

# Single-column unique indexes (primary keys and UNIQUE constraints have one),
# without a predicate or an expression.
_UNIQUE = """
    SELECT c.relname, a.attname
    FROM pg_index x
    JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
    WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND x.indisunique
      AND x.indnkeyatts = 1 AND x.indpred IS NULL AND x.indexprs IS NULL"""

_FOREIGN_KEYS = """
    SELECT c.relname, a.attname, r.relname, ra.attname, k.confdeltype::text
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class r ON r.oid = k.confrelid
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
    WHERE k.contype = 'f' AND cardinality(k.conkey) = 1
      AND n.nspname = %(schema)s AND c.relname = ANY(%(tables)s)"""


def check(
    conn: psycopg.Connection[Any],
    *,
    schema: str = "public",
    tables: dict[str, tuple[Field, ...]] | None = None,
) -> list[str]:
    """One line per problem of the auth tables in *conn*'s database (empty: all good).

    *tables* defaults to `CORE_SCHEMA`; pass your own mapping for renamed
    models or plugin fields.
    """
    wanted = tables or CORE_SCHEMA
    params = {"schema": schema, "tables": list(wanted)}
    columns = {(r[0], r[1]): r[2:] for r in conn.execute(_COLUMNS, params).fetchall()}
    unique = {(r[0], r[1]) for r in conn.execute(_UNIQUE, params).fetchall()}
    fks = {(r[0], r[1]): r[2:] for r in conn.execute(_FOREIGN_KEYS, params).fetchall()}
    present = {table for table, _ in columns}
    problems: list[str] = []
    for table, fields in wanted.items():
        if table not in present:
            problems.append(f"{table}: table missing (better-auth needs {_columns(fields)})")
            continue
        for field in fields:
            problems += _field_problems(table, field, columns, unique, fks)
    return problems


def check_sql(server_url: str, folder: Path) -> list[str]:
    """`check()` the auth tables that ``folder/*.sql`` builds, in a scratch database."""
    with scratch_database(server_url) as url:
        build_from_sql(url, folder)
        with psycopg.connect(url) as conn:
            return check(conn)


def _field_problems(
    table: str,
    field: Field,
    columns: dict[tuple[str, str], tuple[Any, ...]],
    unique: set[tuple[str, str]],
    fks: dict[tuple[str, str], tuple[Any, ...]],
) -> list[str]:
    name = f"{table}.{field.column}"
    found = columns.get((table, field.column))
    if found is None:
        return [f"{name}: column missing (expected {_describe(field)})"]
    category, type_name, not_null = found
    problems: list[str] = []
    if _CATEGORY.get(category) != field.type:
        problems.append(f"{name}: type {type_name} is not a {field.type} type")
    if field.required and not not_null:
        problems.append(f"{name}: must be NOT NULL (better-auth always sets it)")
    if not field.required and not_null:
        problems.append(f"{name}: must be nullable (better-auth leaves it empty)")
    if field.unique and (table, field.column) not in unique:
        problems.append(f"{name}: must be unique (a PRIMARY KEY or UNIQUE constraint on it alone)")
    if field.references:
        problems += _fk_problems(name, field.references, fks.get((table, field.column)))
    return problems


def _fk_problems(name: str, target: tuple[str, str], fk: tuple[Any, ...] | None) -> list[str]:
    ref = f"{target[0]}({target[1]})"
    if fk is None or (fk[0], fk[1]) != target:
        return [f"{name}: foreign key to {ref} ON DELETE CASCADE missing"]
    if fk[2] != "c":
        return [f"{name}: foreign key to {ref} must be ON DELETE CASCADE"]
    return []


def _describe(field: Field) -> str:
    parts = [field.type, "NOT NULL" if field.required else "nullable"]
    if field.unique:
        parts.append("unique")
    if field.references:
        parts.append(f"references {field.references[0]}({field.references[1]}) ON DELETE CASCADE")
    return ", ".join(parts)


def _columns(fields: tuple[Field, ...]) -> str:
    return ", ".join(f.column for f in fields)
