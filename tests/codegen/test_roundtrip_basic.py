"""Round trip of the basic case: every command, scalars, views, keyword and unnamed params."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.basic.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "basic" / "schema.sql").read_text()


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture(params=["autocommit", "transaction"])
def db(request: pytest.FixtureRequest, url: str) -> Iterator[dbtx.Conn]:
    """The same generated functions run on an autocommit connection and in a transaction."""
    with psycopg.connect(url, autocommit=request.param == "autocommit") as conn:
        yield dbtx.Conn.of(conn)


def test_commands(db: dbtx.Conn) -> None:
    """:one, :many, :exec, :execrows and :execresult return what they declare."""
    user = queries.create_user(db, id="u1", name="Ada", email="ada@example.com")
    assert isinstance(user, models.User) and isinstance(user.created_at, datetime)
    assert user.email_verified is False and user.deleted_at is None
    assert queries.get_user(db, id="u1") == user
    assert queries.get_user(db, id="nope") is None
    queries.create_user(db, id="u2", name="Bob", email="bob@example.com")
    assert [u.id for u in queries.list_users(db, max_rows=10)] == ["u1", "u2"]
    assert [u.id for u in queries.iter_list_users(db, max_rows=1)] == ["u1"]
    assert queries.rename_user(db, name="Bob B", id="u2") == 1
    assert queries.rename_user(db, name="x", id="nope") == 0
    result = queries.soft_delete_user(db, id="u2")
    assert result == dbtx.ExecResult(1, "UPDATE 1")
    assert queries.list_active_users(db) == [models.ActiveUser("u1", "Ada", "ada@example.com")]
    queries.delete_user(db, id="u2")
    assert queries.count_users(db) == 1


def test_scalars_and_names(db: dbtx.Conn) -> None:
    """Single columns come back as scalars; keyword and unnamed params are escaped or numbered."""
    queries.create_user(db, id="u1", name="Ada", email="ada@example.com")
    assert queries.list_emails(db) == ["ada@example.com"]
    assert queries.get_image(db, id="u1") is None
    session = queries.AddSessionParams(id="s1", token="t", user_id="u1", class_="web", p5=3600)
    queries.add_session(db, session)
    row = queries.get_session_by_key(db, token="t")
    assert row == queries.GetSessionByKeyRow("s1", "t", "web", "u1", "ada@example.com")
    assert row is not None and row.id_2 == "u1"
    assert [r.id for r in queries.list_sessions_by_class(db, class_="web")] == ["s1"]
    assert queries.echo_numbers(db, p1=41, p2="x") == queries.EchoNumbersRow(42, "x")
    assert queries.odd_text(db) == queries.OddTextRow('a """ b \\ c', "50%")


async def _async_commands(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        db = dbtx.AsyncConn.of(conn)
        user = await queries_async.create_user(db, id="u1", name="Ada", email="a@example.com")
        assert isinstance(user, models.User)
        assert await queries_async.get_user(db, id="u1") == user
        assert [u.id async for u in queries_async.iter_list_users(db, max_rows=5)] == ["u1"]
        assert await queries_async.rename_user(db, name="A", id="u1") == 1
        assert (await queries_async.soft_delete_user(db, id="u1")).rowcount == 1
        assert await queries_async.count_users(db) == 1
        await queries_async.delete_user(db, id="u1")
        assert await queries_async.list_users(db, max_rows=5) == []
        assert await queries_async.echo_numbers(db, p1=1, p2="y") == queries.EchoNumbersRow(2, "y")


def test_commands_async(url: str) -> None:
    """The async twins behave the same."""
    asyncio.run(_async_commands(url))


def test_expiry_uses_interval_param(db: dbtx.Conn) -> None:
    """A cast parameter ($5::int) is typed and passed positionally."""
    queries.create_user(db, id="u1", name="Ada", email="ada@example.com")
    queries.add_session(
        db, queries.AddSessionParams(id="s", token="k", user_id="u1", class_=None, p5=-1)
    )
    assert queries.get_session_by_key(db, token="k") is None


def test_multifile_modules(fresh_database: Callable[..., str]) -> None:
    """Each queries file is its own module; a builtin-named query gets a trailing underscore."""
    from tests.codegen.cases.multifile.expected import archive, models, notes

    schema = (Path(__file__).parent / "cases" / "multifile" / "schema.sql").read_text()
    with psycopg.connect(
        fresh_database(schema + "INSERT INTO notes (body) VALUES ('a'), ('b');")
    ) as conn:
        db = dbtx.Conn.of(conn)
        assert [n.body for n in notes.list_(db)] == ["a", "b"]
        assert archive.archive_notes(db, ids=[1, 2, 3]) == 2
        assert archive.count_archived(db) == 2
        assert notes.get_note(db, id=1) == models.Note(1, "a", True)
