"""The one-to-many (``-- group:``) queries of queries/ on a real database, sync and async."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from codex_db import AsyncDatabase, Database
from codex_db.generated import (
    content,
    media_items,
    media_items_async,
    models,
    organizations,
    organizations_async,
)
from tests.test_queries_auth import make_user
from tests.test_queries_content import make_content, make_media, make_org

Db = Any


_DAY = datetime(2026, 3, 1, tzinfo=UTC)
_days = itertools.count()


def _published(db: Db, creator: models.User, org: models.Organization, title: str) -> uuid.UUID:
    """Publish a new item of *org*; each one a day after the one before (no ties)."""
    item = make_content(db, creator, organization_id=org.id, title=title)
    assert content.publish_content(db, id=item.id) is not None
    when = _DAY + timedelta(days=next(_days))
    db.execute("UPDATE content SET published_at = $1 WHERE id = $2", (when, item.id))
    return item.id


class TestOrganizationsWithPublishedContent:
    """ListOrganizationsWithPublishedContent: each organization with its published content."""

    def test_several_children_none_and_several_parents(self, dbtx: Db) -> None:
        """Parents by name; only published, live content; an org without any gets []."""
        creator = make_user(dbtx)
        zeta, alpha, empty = (make_org(dbtx, name) for name in ("Zeta", "Alpha", "Empty"))
        first = _published(dbtx, creator, alpha, "First")
        second = _published(dbtx, creator, alpha, "Second")
        make_content(dbtx, creator, organization_id=alpha.id, title="Draft")
        gone = _published(dbtx, creator, alpha, "Gone")
        assert content.soft_delete_content(dbtx, id=gone) == 1
        only = _published(dbtx, creator, zeta, "Only")
        make_content(dbtx, creator, organization_id=empty.id, title="Draft only")
        ids = [zeta.id, alpha.id, empty.id, uuid.uuid4()]
        rows = organizations.list_organizations_with_published_content(dbtx, ids=ids)
        assert [r.organization for r in rows] == [alpha, empty, zeta]
        by_name = {r.organization.name: r.content for r in rows}
        # published_at DESC: the later one first.
        assert [c.id for c in by_name["Alpha"]] == [second, first]
        assert by_name["Empty"] == []
        assert [c.id for c in by_name["Zeta"]] == [only]
        item = by_name["Zeta"][0]
        # Exact child types: a present child is a real content row (NOT NULL columns set).
        title: str = item.title
        views: int = item.view_count
        assert (title, views, item.status, item.tags) == ("Only", 0, "published", [])

    def test_soft_deleted_parent_and_no_ids(self, dbtx: Db) -> None:
        """A soft-deleted organization is not returned; no ids, no rows."""
        org = make_org(dbtx)
        assert organizations.soft_delete_organization(dbtx, id=org.id) == 1
        assert organizations.list_organizations_with_published_content(dbtx, ids=[org.id]) == []
        assert organizations.list_organizations_with_published_content(dbtx, ids=[]) == []


class TestCreatorsWithMedia:
    """ListCreatorsWithMedia: each creator with their media items."""

    def test_several_children_none_and_several_parents(self, dbtx: Db) -> None:
        """Creators by id, media newest first, soft-deleted media left out, [] for none."""
        a, b, c = sorted((make_user(dbtx) for _ in range(3)), key=lambda u: u.id)
        older, newer = make_media(dbtx, a), make_media(dbtx, a)
        deleted = make_media(dbtx, b)
        assert media_items.soft_delete_media_item(dbtx, id=deleted.id) == 1
        mine = make_media(dbtx, c)
        rows = media_items.list_creators_with_media(dbtx, ids=[c.id, a.id, b.id])
        assert [r.user for r in rows] == [a, b, c]
        # Inside a transaction now() is fixed: created_at ties, then id DESC decides.
        expected = sorted([older, newer], key=lambda m: (m.created_at, m.id), reverse=True)
        assert rows[0].media == expected
        assert rows[1].media == []
        assert rows[2].media == [mine]
        assert media_items.list_creators_with_media(dbtx, ids=["nobody"]) == []


def test_grouped_queries_async(migrated_database: Callable[[], str]) -> None:
    """The async twins return the same Rows."""
    url = migrated_database()

    async def main() -> None:
        async with AsyncDatabase.from_url(url, max_size=1) as db:
            with Database.from_url(url, max_size=1) as sync_db:
                creator, idle = make_user(sync_db), make_user(sync_db)
                media = [make_media(sync_db, creator) for _ in range(3)]
                org, empty = make_org(sync_db, "Org"), make_org(sync_db, "Quiet")
                first = _published(sync_db, creator, org, "One")
                second = _published(sync_db, creator, org, "Two")
                expected_media = media_items.list_creators_with_media(
                    sync_db, ids=[creator.id, idle.id]
                )
            rows = await media_items_async.list_creators_with_media(db, ids=[creator.id, idle.id])
            assert rows == expected_media
            by_user = {r.user.id: r.media for r in rows}
            assert sorted(m.id for m in by_user[creator.id]) == sorted(m.id for m in media)
            assert by_user[idle.id] == []
            orgs = await organizations_async.list_organizations_with_published_content(
                db, ids=[empty.id, org.id]
            )
            assert [(r.organization.name, [c.id for c in r.content]) for r in orgs] == [
                ("Org", [second, first]),
                ("Quiet", []),
            ]

    asyncio.run(main())
