"""Round trip of the joins case: embed nullability follows the join type; params default."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.joins.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "joins" / "schema.sql").read_text()


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield dbtx.Conn.of(conn)


class Seed(msgspec.Struct):
    red: int
    ada: int
    bob: int
    cy: int
    post_ada: int
    post_cy: int
    post_orphan: int


def _seed(db: dbtx.Conn) -> Seed:
    """Teams red (Ada, Bob) and blue (nobody); Cy has no team; Bob's manager is Ada."""
    red = queries.create_team(db, name="red")
    queries.create_team(db, name="blue")
    assert red is not None
    ada = queries.create_user(db, queries.CreateUserParams(name="Ada", team_id=red))
    assert ada is not None
    bob = queries.create_user(db, queries.CreateUserParams(name="Bob", team_id=red, manager_id=ada))
    cy = queries.create_user(db, queries.CreateUserParams(name="Cy"))
    assert bob is not None and cy is not None
    posts = [
        queries.create_post(db, queries.CreatePostParams(author_id=author, title=title))
        for author, title in ((ada, "a"), (cy, "c"), (None, "orphan"))
    ]
    assert all(p is not None for p in posts)
    ids = [p.id for p in posts if p is not None]
    queries.create_invoice(db, user_id=ada, total=Decimal("9.99"))
    return Seed(red, ada, bob, cy, *ids)


def test_params_default_to_none(db: dbtx.Conn) -> None:
    """Nullable parameters may be left out; required ones may not."""
    seed = _seed(db)
    params = queries.SearchPostsParams(after=0)
    assert params.title is None and params.author_id is None
    assert [r.title for r in queries.search_posts(db, params)] == ["a", "c", "orphan"]
    only = queries.SearchPostsParams(after=0, author_id=seed.cy)
    assert [r.title for r in queries.search_posts(db, only)] == ["c"]
    with pytest.raises(TypeError, match="after"):
        queries.SearchPostsParams()  # type: ignore[call-arg]
    signature = inspect.signature(queries.CreateUserParams)
    assert signature.parameters["team_id"].default is None
    assert signature.parameters["name"].default is inspect.Parameter.empty


def test_inner_join_embeds_are_models(db: dbtx.Conn) -> None:
    """INNER JOIN: both embeds are built directly; rows without a match are not returned."""
    seed = _seed(db)
    rows = queries.posts_with_authors(db)
    assert [(r.post.id, r.user.name) for r in rows] == [
        (seed.post_ada, "Ada"),
        (seed.post_cy, "Cy"),
    ]
    assert all(isinstance(r.user, models.User) for r in rows)


def test_left_join_gives_none(db: dbtx.Conn) -> None:
    """JOIN then LEFT JOIN: the team is None for Cy, who has none."""
    _seed(db)
    rows = queries.posts_with_author_and_team(db)
    assert [(r.user.name, r.team.name if r.team else None) for r in rows] == [
        ("Ada", "red"),
        ("Cy", None),
    ]


def test_right_join_makes_earlier_tables_nullable(db: dbtx.Conn) -> None:
    """RIGHT JOIN: every team is present; posts and users are None for the empty team."""
    _seed(db)
    rows = queries.teams_with_members(db)
    assert [(r.team.name, r.user.name if r.user else None) for r in rows] == [
        ("red", "Ada"),
        ("blue", None),
    ]
    assert rows[1].post is None


def test_full_join_either_side(db: dbtx.Conn) -> None:
    """FULL JOIN: users without a team and teams without users both appear."""
    _seed(db)
    rows = queries.users_full_teams(db)
    pairs = {(r.user.name if r.user else None, r.team.name if r.team else None) for r in rows}
    assert pairs == {("Ada", "red"), ("Bob", "red"), ("Cy", None), (None, "blue")}


def test_aliases_comma_and_cross_join(db: dbtx.Conn) -> None:
    """Schema-qualified, quoted and aliased tables joined with a comma and CROSS JOIN."""
    seed = _seed(db)
    (row,) = queries.invoices_with_users(db)
    assert row.billing_invoice.total == Decimal("9.99")
    assert (row.user.id, row.team.id) == (seed.ada, seed.red)


def test_self_joins_follow_aliases(db: dbtx.Conn) -> None:
    """Self joins: the LEFT-joined manager is None-able, and embeds follow their alias."""
    seed = _seed(db)
    rows = queries.users_with_managers(db)
    assert [(r.user.name, r.user_2.name if r.user_2 else None) for r in rows] == [
        ("Ada", None),
        ("Bob", "Ada"),
        ("Cy", None),
    ]
    managers = queries.managers_of_users(db)
    assert [(r.user.id if r.user else None, r.user_2.id) for r in managers] == [
        (None, seed.ada),
        (seed.ada, seed.bob),
        (None, seed.cy),
    ]


def test_fallback_embeds_are_nullable(db: dbtx.Conn) -> None:
    """Unparsed FROM clauses keep the None-able type and still build present rows."""
    seed = _seed(db)
    nested = queries.posts_with_nested_join(db)
    assert [r.post.id if r.post else None for r in nested] == [seed.post_ada]
    counted = queries.posts_with_subquery(db)
    assert [(r.post.id if r.post else None, r.n) for r in counted] == [
        (seed.post_ada, 1),
        (seed.post_cy, 1),
    ]


def test_non_null_embeds_skip_the_all_null_check() -> None:
    """Only None-able embeds go through dbtx.embed; the others build the model directly."""
    row = queries.PostsWithAuthorAndTeamRow.from_row(*([None] * 10))
    assert row.post == models.Post(None, None, None, None)  # type: ignore[arg-type]
    assert row.user == models.User(None, None, None, None)  # type: ignore[arg-type]
    assert row.team is None
    source = inspect.getsource(queries.PostsWithAuthorAndTeamRow.from_row)
    assert source.count("embed(") == 1


def test_async_round_trip(url: str) -> None:
    """The async functions share the Structs and behave the same."""

    async def run() -> list[queries.PostsWithAuthorAndTeamRow]:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            db = dbtx.AsyncConn.of(conn)
            team = await queries_async.create_team(db, name="red")
            user = await queries_async.create_user(db, queries.CreateUserParams(name="Ada"))
            assert team is not None and user is not None
            await queries_async.create_post(db, queries.CreatePostParams(author_id=user, title="t"))
            return await queries_async.posts_with_author_and_team(db)

    (row,) = asyncio.run(run())
    assert row.user.name == "Ada" and row.team is None
