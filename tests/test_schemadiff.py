"""The schema differ on scratch databases, and the hazards it flags."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from codex_db.testing import TestServer
from codex_db.workflow import hazards, schemadiff
from codex_db.workflow.hazards import Hazard


def _diff(fresh_database: Callable[..., str], old: str, new: str) -> list[str]:
    return schemadiff.diff(fresh_database(schema_sql=old), fresh_database(schema_sql=new))


def _kinds(found: list[Hazard]) -> list[str]:
    return [h.kind for h in found]


def test_scratch_database_is_dropped_after_use(pg_server: TestServer) -> None:
    """A scratch database exists inside the block and is gone after it, even on error."""
    names: list[tuple[str]] = []

    def use_and_fail() -> None:
        with schemadiff.scratch_database(pg_server.url) as url, psycopg.connect(url) as conn:
            names.append(conn.execute("SELECT current_database()::text").fetchone() or ("",))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        use_and_fail()
    dbname = names[0]
    assert dbname is not None
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", dbname).fetchone()
    assert found is None


def test_identical_schemas_have_no_diff(fresh_database: Callable[..., str]) -> None:
    """Two databases with the same schema diff to nothing."""
    schema = "CREATE TABLE t (id bigint PRIMARY KEY, body text);"
    assert _diff(fresh_database, schema, schema) == []


def test_rename_shows_as_drop_and_add_and_is_flagged(fresh_database: Callable[..., str]) -> None:
    """A renamed column is emitted as drop + add; the hazard names the data loss and the fix."""
    statements = _diff(
        fresh_database,
        "CREATE TABLE t (id bigint PRIMARY KEY, body text);",
        "CREATE TABLE t (id bigint PRIMARY KEY, content text);",
    )
    found = hazards.find(statements, ["public.t"])
    assert _kinds(found) == ["rename"]
    assert "RENAME COLUMN" in found[0].message and "body" in found[0].message


def test_enum_value_added_is_flagged_as_rebuild(fresh_database: Callable[..., str]) -> None:
    """Adding an enum value makes the differ rebuild the type; the hazard suggests ADD VALUE."""
    statements = _diff(
        fresh_database,
        "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (m mood);",
        "CREATE TYPE mood AS ENUM ('ok', 'great'); CREATE TABLE t (m mood);",
    )
    found = hazards.find(statements, ["public.t"])
    assert "enum-rebuild" in _kinds(found)
    assert any("ADD VALUE" in h.message for h in found)


def test_index_on_existing_table_is_flagged_but_not_on_a_new_one(
    fresh_database: Callable[..., str],
) -> None:
    """Only an index on a table that already exists blocks writes."""
    statements = _diff(
        fresh_database,
        "CREATE TABLE t (id bigint PRIMARY KEY, body text);",
        "CREATE TABLE t (id bigint PRIMARY KEY, body text); CREATE INDEX t_body ON t (body);"
        "CREATE TABLE u (id bigint PRIMARY KEY, x text); CREATE INDEX u_x ON u (x);",
    )
    found = hazards.find(statements, ["public.t"])
    assert _kinds(found) == ["blocking-index"]
    assert "CONCURRENTLY" in found[0].message and "transactional: false" in found[0].message


def test_dropped_table_and_not_null_are_flagged() -> None:
    """A dropped table loses rows; SET NOT NULL fails on NULLs."""
    found = hazards.find(
        [
            'drop table "public"."old";',
            'alter table "public"."t" alter column "x" set not null;',
            'alter table "public"."t" alter column "y" set data type bigint using "y"::bigint;',
        ]
    )
    assert _kinds(found) == ["data-loss", "not-null", "type-change"]


def test_split_keeps_dollar_quoted_bodies_whole() -> None:
    """Statement splitting does not cut a function body at its inner semicolons."""
    script = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\nSELECT 1;"
    )
    assert len(schemadiff.split(script)) == 2
