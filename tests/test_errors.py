"""Error utilities against real violations of the schema's own constraints."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from codex_db import (
    CodexDBError,
    Database,
    DatabaseWs,
    Transaction,
    get_constraint_name,
    get_error_detail,
    is_check_violation,
    is_foreign_key_violation,
    is_not_null_violation,
    is_unique_violation,
)
from codex_db.errors import find_database_error

PREDICATES = {
    "unique": is_unique_violation,
    "foreign_key": is_foreign_key_violation,
    "not_null": is_not_null_violation,
    "check": is_check_violation,
}


def make_user(db: Database | Transaction) -> None:
    """The user u1 (jane@example.com) the cases refer to."""
    db.run(
        "INSERT INTO users (id, name, email) VALUES ('u1', 'Jane', 'jane@example.com')"
        " ON CONFLICT DO NOTHING"
    )


def violation(
    db: Database | Transaction, statement: str, params: tuple[object, ...]
) -> psycopg.Error:
    """Run *statement* (after user u1 exists) and return the error it raises."""
    make_user(db)
    with pytest.raises(psycopg.Error) as info:
        db.run(statement, params)
    return info.value


CASES = {
    "unique": (
        "INSERT INTO users (id, name, email) VALUES (%s, 'Dup', 'jane@example.com')",
        ("u2",),
        "users_email_unique",
        "Key (email)=(jane@example.com) already exists.",
    ),
    "foreign_key": (
        "INSERT INTO sessions (id, expires_at, token, user_id) VALUES ('s1', now(), 't', %s)",
        ("ghost",),
        "sessions_user_id_users_id_fk",
        'Key (user_id)=(ghost) is not present in table "users".',
    ),
    "not_null": (
        "INSERT INTO users (id, name, email) VALUES (%s, NULL, 'x@example.com')",
        ("u3",),
        None,
        None,  # the DETAIL is the failing row; checked below
    ),
    "check": (
        "INSERT INTO media_items (creator_id, title, media_type, r2_key)"
        " VALUES ('u1', 'Pic', %s, 'k')",
        ("image",),
        "check_media_type",
        None,
    ),
}


@pytest.mark.parametrize("kind", CASES)
def test_each_violation_is_recognised(dbtx: Database | Transaction, kind: str) -> None:
    """Each helper is True for its own violation and False for the others, in both modes."""
    statement, params, _, _ = CASES[kind]
    error = violation(dbtx, statement, params)
    assert {name: check(error) for name, check in PREDICATES.items()} == {
        name: name == kind for name in PREDICATES
    }


@pytest.mark.parametrize("kind", ["unique", "foreign_key", "check"])
def test_constraint_name_and_detail(dbtx: Database | Transaction, kind: str) -> None:
    """get_constraint_name/get_error_detail return the schema's constraint name and DETAIL."""
    statement, params, constraint, detail = CASES[kind]
    error = violation(dbtx, statement, params)
    assert get_constraint_name(error) == constraint
    if detail is not None:
        assert get_error_detail(error) == detail
    else:
        assert (get_error_detail(error) or "").startswith("Failing row contains")


def test_not_null_names_no_constraint(isolated_db: DatabaseWs) -> None:
    """A not-null violation has no constraint name; its DETAIL is the failing row."""
    statement, params, _, _ = CASES["not_null"]
    error = violation(isolated_db, statement, params)
    assert get_constraint_name(error) is None
    assert (get_error_detail(error) or "").startswith("Failing row contains (u3")


def test_unique_index_name_is_the_constraint(isolated_db: DatabaseWs) -> None:
    """A unique index (personal content slugs) is reported by its index name."""
    insert = (
        "INSERT INTO content (creator_id, title, slug, content_type)"
        " VALUES ('u1', 'Hello', 'hello', 'video')"
    )
    make_user(isolated_db)
    isolated_db.run(insert)
    with pytest.raises(psycopg.errors.UniqueViolation) as info:
        isolated_db.run(insert)
    assert is_unique_violation(info.value)
    assert get_constraint_name(info.value) == "idx_unique_content_slug_personal"


class ServiceError(Exception):
    """An application error that wraps a database error."""


def test_wrapped_errors_are_unwrapped(isolated_db: DatabaseWs) -> None:
    """The helpers follow __cause__ (raise ... from) and __context__ (raise while handling)."""
    statement, params, constraint, _ = CASES["unique"]
    error = violation(isolated_db, statement, params)
    try:
        raise ServiceError("signup failed") from error
    except ServiceError as caused:
        explicit = caused
    try:
        try:
            raise error
        except psycopg.Error:
            raise KeyError("while handling") from None
    except KeyError as handled:
        implicit = handled
    try:
        raise ServiceError("outer") from explicit
    except ServiceError as outer:
        two_levels = outer
    for wrapped in (explicit, implicit, two_levels):
        assert is_unique_violation(wrapped)
        assert get_constraint_name(wrapped) == constraint
        assert find_database_error(wrapped) is error


@pytest.mark.parametrize(
    "value",
    [None, "23505", 23505, ValueError("23505"), CodexDBError("x"), psycopg.InterfaceError("x")],
)
def test_anything_else_is_false_or_none(value: object) -> None:
    """Non-database errors and non-errors give False/None, never an exception."""
    assert not any(check(value) for check in PREDICATES.values())
    assert get_constraint_name(value) is None
    assert get_error_detail(value) is None


def test_cycles_in_the_chain_terminate() -> None:
    """An exception chain with a cycle is walked once."""
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_unique_violation(first)


def test_error_from_a_transaction_block(isolated_db: DatabaseWs) -> None:
    """A violation raised out of db_ws.transaction() is recognised."""
    with pytest.raises(psycopg.Error) as info, isolated_db.transaction() as tx:
        tx.run(
            "INSERT INTO organizations (name, slug) VALUES ('A', %s), ('B', %s)",
            (slug := f"s-{uuid.uuid4().hex[:6]}", slug),
        )
    assert is_unique_violation(info.value)
    assert get_constraint_name(info.value) == "organizations_slug_unique"


def test_restrict_refusal_is_a_foreign_key_violation(dbtx: Database | Transaction) -> None:
    """Deleting a creator who still has media is an FK violation on every PostgreSQL.

    PostgreSQL 18 raises 23001 (restrict_violation) for ON DELETE RESTRICT,
    earlier versions 23503; callers check one helper either way.
    """
    make_user(dbtx)
    dbtx.run(
        "INSERT INTO media_items (creator_id, title, media_type, r2_key)"
        " VALUES ('u1', 'Clip', 'video', 'k')"
    )
    with pytest.raises(psycopg.IntegrityError) as info:
        dbtx.run("DELETE FROM users WHERE id = 'u1'")
    assert is_foreign_key_violation(info.value)
    assert not is_check_violation(info.value)
    assert get_constraint_name(info.value) == "media_items_creator_id_users_id_fk"
