"""The content-domain queries (organizations, media items, content) on a real database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from psycopg import errors

from codex_db import AsyncDatabase, CopyDataError, Database, DatabaseWs
from codex_db.generated import content, content_async, media_items, models, organizations
from tests.test_queries_auth import make_user

Db = Any


def make_org(db: Db, name: str = "Acme Inc", slug: str | None = None) -> models.Organization:
    """Create an organization through the generated query."""
    org = organizations.create_organization(
        db,
        organizations.CreateOrganizationParams(
            name=name, slug=slug or f"acme-{uuid.uuid4().hex[:8]}", description="A company"
        ),
    )
    assert org is not None
    return org


def make_content(db: Db, creator: models.User, **fields: Any) -> models.Content:
    """Create a content item; *fields* override the defaults."""
    values: dict[str, Any] = {
        "creator_id": creator.id,
        "title": "Welcome Video",
        "slug": f"welcome-{uuid.uuid4().hex[:8]}",
        "content_type": "video",
    }
    values.update(fields)
    item = content.create_content(db, content.CreateContentParams(**values))
    assert item is not None
    return item


def make_media(db: Db, creator: models.User) -> models.MediaItem:
    """Register an upload."""
    media = media_items.create_media_item(
        db,
        media_items.CreateMediaItemParams(
            creator_id=creator.id,
            title="My Video",
            media_type="video",
            r2_key=f"originals/{uuid.uuid4()}/video.mp4",
            file_size_bytes=1_024_000,
            mime_type="video/mp4",
        ),
    )
    assert media is not None
    return media


class TestOrganizations:
    """Organizations: CRUD, slugs, soft delete, search."""

    def test_create_get_update(self, dbtx: Db) -> None:
        """An organization reads back by id and slug and updates partially."""
        owner = make_user(dbtx)
        org = organizations.create_organization(
            dbtx,
            organizations.CreateOrganizationParams(
                name="Acme Inc", slug="acme-crud", owner_id=owner.id
            ),
        )
        assert org is not None
        assert org.owner_id == owner.id
        assert organizations.get_organization(dbtx, id=org.id) == org
        assert organizations.get_organization_by_slug(dbtx, slug="acme-crud") == org
        updated = organizations.update_organization(
            dbtx, organizations.UpdateOrganizationParams(id=org.id, website_url="https://acme.test")
        )
        assert updated is not None
        assert (updated.name, updated.website_url) == ("Acme Inc", "https://acme.test")

    def test_soft_delete_hides_and_restore_returns(self, dbtx: Db) -> None:
        """Soft-deleted organizations are hidden from get, slug lookup and lists."""
        org = make_org(dbtx)
        assert organizations.soft_delete_organization(dbtx, id=org.id) == 1
        assert organizations.get_organization(dbtx, id=org.id) is None
        assert organizations.get_organization_by_slug(dbtx, slug=org.slug) is None
        listed = organizations.search_organizations(
            dbtx, include_deleted=False, search=org.name, skip_rows=0, max_rows=10
        )
        assert listed == []
        everyone = organizations.list_organizations(
            dbtx, include_deleted=True, skip_rows=0, max_rows=1000
        )
        assert org.id in {o.id for o in everyone}
        assert organizations.restore_organization(dbtx, id=org.id) == 1
        assert organizations.get_organization(dbtx, id=org.id) is not None

    def test_search_is_literal(self, dbtx: Db) -> None:
        """% _ and backslash in a search term match themselves, case-insensitively."""
        tag = uuid.uuid4().hex[:6]
        names = [f"{tag} 100% Pure", f"{tag} 100 Pure", f"{tag} a_b", f"{tag} axb", f"{tag} c\\d"]
        for name in names:
            make_org(dbtx, name=name)

        def search(term: str) -> list[str]:
            rows = organizations.search_organizations(
                dbtx, include_deleted=False, search=term, skip_rows=0, max_rows=50
            )
            return [o.name for o in rows]

        assert search(f"{tag} 100%") == [f"{tag} 100% Pure"]
        assert search(f"{tag} A_B") == [f"{tag} a_b"]
        assert search("c\\d") == [f"{tag} c\\d"]
        assert len(search(tag)) == 5


class TestMedia:
    """The media lifecycle: uploading -> uploaded -> transcoding -> ready | failed."""

    def test_lifecycle(self, dbtx: Db) -> None:
        """Each step sets its status; ready records what transcoding produced."""
        creator = make_user(dbtx)
        media = make_media(dbtx, creator)
        assert (media.status, media.uploaded_at) == ("uploading", None)
        uploaded = media_items.mark_media_uploaded(dbtx, id=media.id)
        assert uploaded is not None
        assert uploaded.status == "uploaded"
        assert uploaded.uploaded_at is not None
        transcoding = media_items.mark_media_transcoding(dbtx, id=media.id)
        assert transcoding is not None
        assert transcoding.status == "transcoding"
        ready = media_items.mark_media_ready(
            dbtx,
            media_items.MarkMediaReadyParams(
                id=media.id,
                duration_seconds=120,
                width=1920,
                height=1080,
                hls_master_playlist_key=f"hls/{media.id}/master.m3u8",
                thumbnail_key=f"thumbnails/{media.id}/thumb.jpg",
            ),
        )
        assert ready is not None
        assert (ready.status, ready.duration_seconds, ready.width, ready.height) == (
            "ready",
            120,
            1920,
            1080,
        )
        assert ready.uploaded_at == uploaded.uploaded_at
        assert media_items.list_ready_media_for_creator(
            dbtx, creator_id=creator.id, max_rows=10
        ) == [ready]

    def test_failed_and_soft_deleted(self, dbtx: Db) -> None:
        """Failed media is not ready; soft-deleted media is hidden until restored."""
        creator = make_user(dbtx)
        failed = media_items.mark_media_failed(dbtx, id=make_media(dbtx, creator).id)
        assert failed is not None
        assert failed.status == "failed"
        assert (
            media_items.list_ready_media_for_creator(dbtx, creator_id=creator.id, max_rows=10) == []
        )
        assert media_items.soft_delete_media_item(dbtx, id=failed.id) == 1
        assert media_items.get_media_item(dbtx, id=failed.id) is None
        assert (
            media_items.mark_media_ready(
                dbtx,
                media_items.MarkMediaReadyParams(
                    id=failed.id, duration_seconds=1, hls_master_playlist_key="k"
                ),
            )
            is None
        )
        assert media_items.restore_media_item(dbtx, id=failed.id) == 1
        assert media_items.get_media_item(dbtx, id=failed.id) is not None

    def test_bad_status_is_a_check_violation(self, dbtx: Db) -> None:
        """media_type outside (video, audio) is refused by check_media_type."""
        creator = make_user(dbtx)
        with pytest.raises(errors.CheckViolation) as info:
            media_items.create_media_item(
                dbtx,
                media_items.CreateMediaItemParams(
                    creator_id=creator.id, title="x", media_type="image", r2_key="k"
                ),
            )
        assert info.value.diag.constraint_name == "check_media_type"


class TestContent:
    """Content: create, slugs, publish lifecycle, soft delete, counters."""

    def test_create_defaults_and_tags(self, dbtx: Db) -> None:
        """Defaults apply; tags round-trip as JSON."""
        creator = make_user(dbtx)
        item = make_content(dbtx, creator, tags=["intro", "welcome"], price_cents=999)
        assert (item.status, item.visibility, item.published_at) == (
            "draft",
            "purchased_only",
            None,
        )
        assert item.tags == ["intro", "welcome"]
        assert item.price_cents == 999
        plain = make_content(dbtx, creator)
        assert plain.tags == []

    def test_slug_lookups(self, dbtx: Db) -> None:
        """By slug within an organization, and within the creator's personal space."""
        creator = make_user(dbtx)
        org = make_org(dbtx)
        in_org = make_content(dbtx, creator, organization_id=org.id, slug="intro")
        personal = make_content(dbtx, creator, slug="intro")
        assert (
            content.get_content_by_slug_in_organization(dbtx, organization_id=org.id, slug="intro")
            == in_org
        )
        assert (
            content.get_personal_content_by_slug(dbtx, creator_id=creator.id, slug="intro")
            == personal
        )

    def test_publish_unpublish_archive(self, dbtx: Db) -> None:
        """publish sets published_at once; unpublish clears it; archive keeps it."""
        creator = make_user(dbtx)
        item = make_content(dbtx, creator)
        published = content.publish_content(dbtx, id=item.id)
        assert published is not None
        assert published.status == "published"
        assert published.published_at is not None
        again = content.publish_content(dbtx, id=item.id)
        assert again is not None
        assert again.published_at == published.published_at
        draft = content.unpublish_content(dbtx, id=item.id)
        assert draft is not None
        assert (draft.status, draft.published_at) == ("draft", None)
        archived = content.archive_content(dbtx, id=item.id)
        assert archived is not None
        assert archived.status == "archived"

    def test_update_soft_delete_restore(self, dbtx: Db) -> None:
        """update keeps unset fields; soft-deleted content is hidden until restored."""
        creator = make_user(dbtx)
        item = make_content(dbtx, creator, category="music")
        updated = content.update_content(
            dbtx, content.UpdateContentParams(id=item.id, title="New title", tags=["a"])
        )
        assert updated is not None
        assert (updated.title, updated.category, updated.tags) == ("New title", "music", ["a"])
        assert content.soft_delete_content(dbtx, id=item.id) == 1
        assert content.get_content(dbtx, id=item.id) is None
        assert (
            content.update_content(dbtx, content.UpdateContentParams(id=item.id, title="x")) is None
        )
        assert content.restore_content(dbtx, id=item.id) == 1
        assert content.get_content(dbtx, id=item.id) is not None

    def test_increment_view_count(self, dbtx: Db) -> None:
        """Each increment returns the new total."""
        item = make_content(dbtx, make_user(dbtx))
        assert [content.increment_view_count(dbtx, id=item.id) for _ in range(3)] == [1, 2, 3]


class TestRelations:
    """Published content with creator, organization and media embedded."""

    def test_embeds_and_missing_relations(self, dbtx: Db) -> None:
        """A missing or soft-deleted organization or media item comes back as None."""
        creator = make_user(dbtx)
        org, gone = make_org(dbtx), make_org(dbtx)
        media = make_media(dbtx, creator)
        full = make_content(dbtx, creator, organization_id=org.id, media_item_id=media.id)
        bare = make_content(dbtx, creator)
        orphan = make_content(dbtx, creator, organization_id=gone.id)
        organizations.soft_delete_organization(dbtx, id=gone.id)  # drafts orphan
        for item in (full, bare, orphan):
            content.publish_content(dbtx, id=item.id)
        rows = {
            r.content.id: r
            for r in content.list_published_content_with_relations(dbtx, max_rows=1000)
        }
        assert rows[full.id].user == creator
        assert rows[full.id].organization == org
        assert rows[full.id].media_item == media
        assert rows[bare.id].organization is None
        assert rows[bare.id].media_item is None
        assert rows[orphan.id].organization is None

    def test_deleting_org_unpublishes(self, dbtx: Db) -> None:
        """The org delete trigger drafts content, so it leaves the published list."""
        creator = make_user(dbtx)
        org = make_org(dbtx)
        item = make_content(dbtx, creator, organization_id=org.id)
        content.publish_content(dbtx, id=item.id)
        dbtx.execute("DELETE FROM organizations WHERE id = $1", (org.id,))
        after = content.get_content(dbtx, id=item.id)
        assert after is not None
        assert (after.organization_id, after.status, after.published_at) == (None, "draft", None)


class TestFilters:
    """list_content / count_content with each filter alone and combined."""

    @pytest.fixture
    def catalog(self, dbtx: Db) -> dict[str, Any]:
        """Two creators, two organizations, content across every filter dimension."""
        alice, bob = make_user(dbtx), make_user(dbtx)
        org_a, org_b = make_org(dbtx), make_org(dbtx)
        tag = uuid.uuid4().hex[:8]
        specs = [
            (alice, org_a, "video", "music", f"{tag} Intro to Jazz", True),
            (alice, org_a, "audio", "music", f"{tag} Jazz 100% live", False),
            (alice, None, "written", "essays", f"{tag} On writing", True),
            (bob, org_b, "video", "sports", f"{tag} Match_day", True),
            (bob, None, "audio", None, f"{tag} Podcast", False),
        ]
        items = []
        for creator, org, kind, category, title, publish in specs:
            item = make_content(
                dbtx,
                creator,
                organization_id=org.id if org else None,
                content_type=kind,
                category=category,
                title=title,
            )
            if publish:
                item = content.publish_content(dbtx, id=item.id) or item
            items.append(item)
        return {
            "alice": alice,
            "bob": bob,
            "org_a": org_a,
            "org_b": org_b,
            "items": items,
            "tag": tag,
        }

    def _titles(self, db: Db, **filters: Any) -> tuple[list[str], int]:
        if "search" in filters:
            found = content.SearchContentParams(**filters, skip_rows=0, max_rows=100)
            rows = content.search_content(db, found)
        else:
            rows = content.list_content(
                db, content.ListContentParams(**filters, skip_rows=0, max_rows=100)
            )
        total = content.count_content(db, content.CountContentParams(**filters))
        return sorted(r.title.split(" ", 1)[1] for r in rows), total or 0

    def test_each_filter_alone_and_combined(self, dbtx: Db, catalog: dict[str, Any]) -> None:
        """Every filter narrows the list, the count agrees, and filters combine with AND."""
        tag = catalog["tag"]
        assert self._titles(dbtx, search=tag)[1] == 5
        assert self._titles(dbtx, search=tag, organization_id=catalog["org_a"].id) == (
            ["Intro to Jazz", "Jazz 100% live"],
            2,
        )
        assert self._titles(dbtx, search=tag, creator_id=catalog["bob"].id) == (
            ["Match_day", "Podcast"],
            2,
        )
        assert self._titles(dbtx, search=tag, status="published")[1] == 3
        assert self._titles(dbtx, search=tag, content_type="audio") == (
            ["Jazz 100% live", "Podcast"],
            2,
        )
        assert self._titles(dbtx, search=tag, category="music")[1] == 2
        assert self._titles(dbtx, search="JAZZ", organization_id=catalog["org_a"].id) == (
            ["Intro to Jazz", "Jazz 100% live"],
            2,
        )
        assert self._titles(dbtx, search="100%", creator_id=catalog["alice"].id) == (
            ["Jazz 100% live"],
            1,
        )
        assert self._titles(dbtx, search="a_c", creator_id=catalog["bob"].id) == ([], 0)
        assert self._titles(
            dbtx,
            search=tag,
            creator_id=catalog["alice"].id,
            status="published",
            content_type="video",
            category="music",
            organization_id=catalog["org_a"].id,
        ) == (["Intro to Jazz"], 1)

    def _ordered(self, db: Db, tag: str, order: content.ListContentOrder) -> list[str]:
        params = content.SearchContentParams(search=tag, skip_rows=0, max_rows=100)
        rows = content.search_content(db, params, order=content.SearchContentOrder(order))
        return [r.title.split(" ", 1)[1] for r in rows]

    def test_whitelisted_orders(self, dbtx: Db, catalog: dict[str, Any]) -> None:
        """Each ListContentOrder sorts as its '-- order:' line in queries/content.sql says,
        and SearchContent's orders sort its matches the same way."""
        items, order = catalog["items"], content.ListContentOrder
        for _ in range(3):
            content.increment_view_count(dbtx, id=items[3].id)  # Match_day
        content.increment_view_count(dbtx, id=items[1].id)  # Jazz 100% live
        titles = {o: self._ordered(dbtx, catalog["tag"], o) for o in order}
        assert titles[order.TITLE] == [
            "Intro to Jazz",
            "Jazz 100% live",
            "Match_day",
            "On writing",
            "Podcast",
        ]
        assert titles[order.MOST_VIEWED][:2] == ["Match_day", "Jazz 100% live"]
        published = {"Intro to Jazz", "On writing", "Match_day"}
        newest, oldest = titles[order.NEWEST], titles[order.OLDEST]
        assert set(newest[:3]) == published and set(oldest[:3]) == published  # NULLS LAST
        assert oldest[:3] == newest[2::-1]
        default = content.search_content(
            dbtx, content.SearchContentParams(search=catalog["tag"], skip_rows=0, max_rows=100)
        )
        assert [r.title.split(" ", 1)[1] for r in default] == newest
        for o in order:  # ListContent, narrowed to one creator's items of the catalog
            mine = content.ListContentParams(
                creator_id=catalog["alice"].id, skip_rows=0, max_rows=100
            )
            listed = content.list_content(dbtx, mine, order=o)
            found = content.SearchContentParams(
                search=catalog["tag"], creator_id=catalog["alice"].id, skip_rows=0, max_rows=100
            )
            searched = content.search_content(dbtx, found, order=content.SearchContentOrder(o))
            assert [r.id for r in listed] == [r.id for r in searched], o

    def test_orders_async(self, migrated_database: Callable[[], str]) -> None:
        """The async function takes the same enum; a string outside it never reaches SQL."""
        url = migrated_database()

        async def main() -> None:
            async with AsyncDatabase.from_url(url, max_size=1) as db:
                with Database.from_url(url, max_size=1) as sync_db:
                    creator = make_user(sync_db)
                    for title in ("b", "A", "c"):
                        make_content(sync_db, creator, title=title)
                params = content.ListContentParams(creator_id=creator.id, skip_rows=0, max_rows=9)
                rows = await content_async.list_content(
                    db, params, order=content.ListContentOrder.TITLE
                )
                assert [r.title for r in rows] == ["A", "b", "c"]
                with pytest.raises(ValueError, match="is not a valid ListContentOrder"):
                    await content_async.list_content(db, params, order="title DESC")  # type: ignore[arg-type]

        asyncio.run(main())

    def test_soft_deleted_are_excluded(self, dbtx: Db, catalog: dict[str, Any]) -> None:
        """A soft-deleted item leaves both the list and the count."""
        content.soft_delete_content(dbtx, id=catalog["items"][0].id)
        assert self._titles(dbtx, search=catalog["tag"])[1] == 4


class TestKeyset:
    """Keyset pagination over published content."""

    def test_walk_all_pages(self, dbtx: Db) -> None:
        """Pages of 7 cover every published row exactly once, newest first."""
        creator = make_user(dbtx)
        base = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [
            content.ImportContentParams(
                id=uuid.uuid4(),
                creator_id=creator.id,
                title=f"Item {i}",
                slug=f"item-{i}-{uuid.uuid4().hex[:6]}",
                content_type="video",
                tags=[],
                visibility="public",
                status="published",
                # duplicates on purpose: the id breaks ties
                published_at=base + timedelta(minutes=i // 3),
                view_count=0,
                purchase_count=0,
            )
            for i in range(50)
        ]
        assert content.import_content(dbtx, rows) == 50
        ours = {r.id for r in rows}
        seen: list[models.Content] = []
        page = content.list_published_content_first_page(dbtx, max_rows=7)
        while page:
            seen.extend(page)
            last = page[-1]
            assert last.published_at is not None
            page = content.list_published_content_after(
                dbtx, after_published_at=last.published_at, after_id=last.id, max_rows=7
            )
        keys = [(c.published_at, c.id) for c in seen]
        assert keys == sorted(keys, reverse=True)
        assert len(keys) == len(set(keys))
        assert ours <= {c.id for c in seen}


def import_row(creator: models.User, **fields: Any) -> content.ImportContentParams:
    """A row for ``import_content`` with only the required columns set, and *fields*."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "creator_id": creator.id,
        "title": "Imported",
        "slug": f"imported-{uuid.uuid4().hex[:8]}",
        "content_type": "written",
        "tags": [],
        "visibility": "public",
        "status": "draft",
        "view_count": 0,
        "purchase_count": 0,
    }
    values.update(fields)
    return content.ImportContentParams(**values)


def _imported(db: Db, row: content.ImportContentParams) -> dict[str, Any]:
    found = content.get_content(db, id=row.id)
    assert found is not None
    return {name: getattr(found, name) for name in msgspec.structs.asdict(row)}


NAIVE_MESSAGE = (
    'ImportContent: column "published_at" (timestamptz) got a naive datetime: '
    "pass an aware datetime, e.g. datetime.now(timezone.utc)"
)


class TestImportContent:
    """``import_content`` (``:copyfrom``): a binary COPY of typed rows."""

    def test_every_column_round_trips(self, dbtx: Db) -> None:
        """Each of the 18 columns reads back as written: set, NULL, unicode and nested jsonb."""
        creator = make_user(dbtx)
        media = make_media(dbtx, creator)
        full = import_row(
            creator,
            organization_id=make_org(dbtx).id,
            media_item_id=media.id,
            title="Ünïcödé 😀 title",
            description="tab\there, newline\nthere, backslash \\N",
            content_type="video",
            thumbnail_url="https://cdn.example.com/t.jpg",
            content_body="body",
            category="music",
            tags=["ß", {"nested": ["😀", 1.5, None, True, []]}, 'quote " and \\'],
            visibility="members_only",
            price_cents=2**31 - 1,
            status="published",
            published_at=datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=timezone(timedelta(hours=5))),
            view_count=7,
            purchase_count=2,
        )
        empty = import_row(creator)
        assert content.import_content(dbtx, [full, empty]) == 2
        assert _imported(dbtx, full) == msgspec.structs.asdict(full)
        assert _imported(dbtx, empty) == msgspec.structs.asdict(empty)
        assert content.import_content(dbtx, []) == 0

    def test_naive_datetime_is_rejected(self, dbtx: Db) -> None:
        """A naive published_at raises an error naming the query, the column and the fix."""
        creator = make_user(dbtx)
        naive = import_row(creator, status="published", published_at=datetime(2026, 1, 1))
        with pytest.raises(CopyDataError) as caught:
            content.import_content(dbtx, [import_row(creator), naive])
        assert str(caught.value) == NAIVE_MESSAGE
        assert isinstance(caught.value.__cause__, TypeError)

    def test_server_errors_stay_psycopg_errors(self, dbtx: Db) -> None:
        """A constraint the server checks fails as usual, with its psycopg error class."""
        creator = make_user(dbtx)
        with pytest.raises(errors.CheckViolation):
            content.import_content(dbtx, [import_row(creator, price_cents=-1)])


def _rows_then_naive(creator: models.User, good: int = 3000) -> Iterator[Any]:
    """*good* rows (enough that some reach the server before the error), then a naive one."""
    for _ in range(good):
        yield import_row(creator)
    yield import_row(creator, status="published", published_at=datetime(2026, 1, 1))


def _count_for(db: Database, creator: models.User) -> int:
    found = db.query_one("SELECT count(*) FROM content WHERE creator_id = %s", (creator.id,))
    assert found is not None
    return int(found[0])


class TestImportContentIsAllOrNothing:
    """A failed ``import_content`` writes no row: the COPY is aborted, not half-applied."""

    @pytest.fixture
    def client(self, migrated_database: Callable[[], str]) -> Iterator[DatabaseWs]:
        with DatabaseWs.from_url(migrated_database(), max_size=1) as client:
            yield client

    def test_autocommit(self, client: DatabaseWs) -> None:
        """On the autocommit client none of the rows before the bad one is kept."""
        db = client.as_http()
        creator = make_user(db)
        with pytest.raises(CopyDataError, match="naive datetime"):
            content.import_content(db, _rows_then_naive(creator))
        assert _count_for(db, creator) == 0
        assert content.import_content(db, [import_row(creator)]) == 1  # the pool is fine

    def test_transaction(self, client: DatabaseWs) -> None:
        """Inside a transaction the error rolls back the whole block, earlier statements too."""
        creator = make_user(client.as_http())

        def import_in_transaction() -> None:
            with client.transaction() as tx:
                make_content(tx, creator)
                content.import_content(tx, _rows_then_naive(creator))

        with pytest.raises(CopyDataError, match="naive datetime"):
            import_in_transaction()
        assert _count_for(client.as_http(), creator) == 0

    def test_async(self, migrated_database: Callable[[], str]) -> None:
        """The async function copies in binary and rejects a naive datetime the same way."""
        url = migrated_database()

        async def main() -> None:
            async with AsyncDatabase.from_url(url, max_size=1) as db:
                with Database.from_url(url, max_size=1) as sync_db:
                    creator = make_user(sync_db)
                    full = import_row(creator, tags=[{"ü": ["😀"]}], published_at=datetime.now(UTC))
                    assert await content_async.import_content(db, [full]) == 1
                    assert _imported(sync_db, full) == msgspec.structs.asdict(full)
                    with pytest.raises(CopyDataError) as caught:
                        await content_async.import_content(db, _rows_then_naive(creator))
                    assert str(caught.value) == NAIVE_MESSAGE
                    assert _count_for(sync_db, creator) == 1

        asyncio.run(main())
