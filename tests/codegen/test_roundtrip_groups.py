"""Round trip of the groups case: ``-- group:`` queries fold joined rows per parent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.groups.expected import models, queries, queries_async
from tests.codegen.jsontypes import Profile

SCHEMA = (Path(__file__).parent / "cases" / "groups" / "schema.sql").read_text()


class Ids(msgspec.Struct, frozen=True):
    """The rows the fixture inserted: organizations by name, posts by title."""

    orgs: dict[str, int]
    posts: dict[str, int]


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        yield dbtx.Conn.of(conn)


def _post(org: int | None, title: str, *, published: bool) -> queries.CreatePostParams:
    meta = Profile(nickname=title.lower(), tags=[title])
    return queries.CreatePostParams(
        organization_id=org, title=title, summary=None, meta=meta, published=published
    )


def _seed(db: dbtx.Conn) -> Ids:
    """Acme: two published posts and a draft; Beta: a draft only; Blank: nothing.

    Posts are created alternating between organizations, so that rows ordered by post
    id arrive interleaved, not clustered by organization.
    """
    orgs = {
        name: queries.create_organization(db, name=name, settings=None)
        for name in ("Acme", "Blank", "Beta")
    }
    plan = [
        ("Acme", "a1", True),
        ("Beta", "b-draft", False),
        ("Acme", "a-draft", False),
        ("Acme", "a2", True),
        (None, "orphan", True),
    ]
    posts = {
        title: queries.create_post(db, _post(orgs[org] if org else None, title, published=pub))
        for org, title, pub in plan
    }
    return Ids(orgs, posts)


def test_published_posts_per_organization(db: dbtx.Conn) -> None:
    """Several children, none (no posts; only unpublished ones), several parents in order."""
    ids = _seed(db)
    rows = queries.organizations_with_published_posts(db, ids=list(ids.orgs.values()))
    assert [r.organization.name for r in rows] == ["Acme", "Beta", "Blank"]
    acme, beta, blank = rows
    assert [p.id for p in acme.posts] == [ids.posts["a1"], ids.posts["a2"]]
    assert beta.posts == []
    assert blank.posts == []
    assert acme.organization == models.Organization(ids.orgs["Acme"], "Acme", None)
    post = acme.posts[0]
    # The child keeps its model's exact types although the LEFT JOIN makes its columns
    # nullable in sqlc's view: a present child is a real posts row.
    title: str = post.title
    published: bool = post.published
    assert (title, published) == ("a1", True)
    assert post.meta == Profile(nickname="a1", tags=["a1"])
    assert post.summary is None
    only = queries.organizations_with_published_posts(db, ids=[ids.orgs["Blank"]])
    assert only == [queries.OrganizationsWithPublishedPostsRow(only[0].organization, [])]
    assert queries.organizations_with_published_posts(db, ids=[]) == []


def test_grouping_does_not_need_clustered_rows(db: dbtx.Conn) -> None:
    """Rows ordered by post id DESC interleave organizations; each still gets one Row."""
    ids = _seed(db)
    rows = queries.organizations_with_post_counts(db)
    # NULLs first (DESC): the post-less Blank, then by post id: a2 (Acme), a-draft, b-draft
    # (Beta), a1 (Acme again, appended to the first Acme Row).
    assert [r.name for r in rows] == ["Blank", "Acme", "Beta"]
    blank, acme, beta = rows
    assert blank.posts == [] and blank.n == 1  # one joined row, all-NULL on the post side
    assert [p.title for p in acme.posts] == ["a2", "a-draft", "a1"]
    assert acme.n == 3 and acme.id == ids.orgs["Acme"]
    assert [p.title for p in beta.posts] == ["b-draft"]


def test_inner_join_group_with_orders(db: dbtx.Conn) -> None:
    """An inner join has no empty side; '-- order:' chooses the row order within a group."""
    _seed(db)
    newest = queries.posts_by_organization(db)
    assert [(r.organization.name, [p.title for p in r.posts]) for r in newest] == [
        ("Acme", ["a2", "a-draft", "a1"]),
        ("Beta", ["b-draft"]),
    ]
    oldest = queries.posts_by_organization(db, order=queries.PostsByOrganizationOrder.OLDEST)
    assert [(r.organization.name, [p.title for p in r.posts]) for r in oldest] == [
        ("Acme", ["a1", "a-draft", "a2"]),
        ("Beta", ["b-draft"]),
    ]


def test_composite_parent_key(db: dbtx.Conn) -> None:
    """``by org_id, member``: (1, ann) and (2, ann) are different parents."""
    ids = _seed(db)
    acme, beta = ids.orgs["Acme"], ids.orgs["Beta"]
    for org, member in ((acme, "ann"), (acme, "bob"), (beta, "ann")):
        queries.create_membership(db, org_id=org, member=member, role=None)
    for org, scope in ((acme, "write"), (acme, "read"), (beta, "admin")):
        queries.create_grant(db, org_id=org, member="ann", scope=scope)
    rows = queries.members_with_grants(db)
    assert [(r.membership.org_id, r.membership.member) for r in rows] == [
        (acme, "ann"),
        (acme, "bob"),
        (beta, "ann"),
    ]
    assert [[g.scope for g in r.grants] for r in rows] == [["read", "write"], [], ["admin"]]


def test_no_iterators_for_grouped_queries() -> None:
    """A parent's Row is complete only after the last row, so there is nothing to stream."""
    assert not hasattr(queries, "iter_organizations_with_published_posts")
    assert not hasattr(queries_async, "iter_organizations_with_published_posts")


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        db = dbtx.AsyncConn.of(conn)
        acme = await queries_async.create_organization(db, name="Acme", settings=None)
        blank = await queries_async.create_organization(db, name="Blank", settings=None)
        for title in ("a1", "a2"):
            await queries_async.create_post(db, _post(acme, title, published=True))
        await queries_async.create_post(db, _post(blank, "draft", published=False))
        rows = await queries_async.organizations_with_published_posts(db, ids=[blank, acme])
        assert [(r.organization.id, [p.title for p in r.posts]) for r in rows] == [
            (acme, ["a1", "a2"]),
            (blank, []),
        ]
        assert rows[0].posts[1].meta == Profile(nickname="a2", tags=["a2"])
        counts = await queries_async.organizations_with_post_counts(db)
        assert [(r.name, r.n, len(r.posts)) for r in counts] == [
            ("Blank", 1, 1),
            ("Acme", 2, 2),
        ]
        oldest = queries.PostsByOrganizationOrder.OLDEST
        grouped = await queries_async.posts_by_organization(db, order=oldest)
        assert [[p.title for p in r.posts] for r in grouped] == [["a1", "a2"], ["draft"]]
        await queries_async.create_membership(db, org_id=acme, member="ann", role="owner")
        members = await queries_async.members_with_grants(db)
        assert [(r.membership.role, r.grants) for r in members] == [("owner", [])]


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
