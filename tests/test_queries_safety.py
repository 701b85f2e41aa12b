"""Hostile input and query plans: parameters are never SQL, and lookups use indexes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from codex_db import dbtx
from codex_db.generated import (
    content,
    media_items,
    organizations,
    sessions,
    users,
    verification_tokens,
)
from codex_db.ids import new_id
from codex_db.workflow import catalog

PAYLOADS = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "Robert'); DELETE FROM content; --",
    "\\",
    "\\'",
    "%",
    "_",
    "%_\\%",
    "$1",
    "$$ SELECT 1 $$",
    "%(name)s {0} :name ?",
    "-- comment",
    "/* comment */",
    "NULL",
    "E'\\x41'",
    "tab\tnewline\ncarriage\rbell\x07escape\x1bdel\x7f",
    "\U0001f600 \U0001d11e non-BMP",
    "Zalgo: Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334",
    "right-to-left \u202e mark",
    "x" * 100_000,
]


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    tables = ["users", "sessions", "verification_tokens", "organizations", "media_items", "content"]
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: repr(p[:24]))
def test_text_parameters_are_stored_verbatim(conn: psycopg.Connection[Any], payload: str) -> None:
    """Every text parameter stores and returns the payload unchanged, and nothing else moves."""
    db = dbtx.Conn.of(conn)
    before_schema, before_counts = catalog.snapshot(conn), _counts(conn)
    user = users.create_user(
        db, users.CreateUserParams(id=new_id(), name=payload, email=f"{new_id()}@x.test")
    )
    assert user is not None
    assert users.update_user(db, id=user.id, image=payload) is not None
    fetched = users.get_user(db, id=user.id)
    assert fetched is not None
    assert (fetched.name, fetched.image) == (payload, payload)
    assert users.get_user(db, id=payload) is None
    assert users.get_user_by_email(db, email=payload) is None

    session = sessions.create_session(
        db,
        sessions.CreateSessionParams(
            id=new_id(),
            token=payload,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            user_id=user.id,
            ip_address=payload,
            user_agent=payload,
        ),
    )
    assert session is not None
    found = sessions.get_session_with_user(db, token=payload)
    assert found is not None
    assert (found.session.ip_address, found.session.user_agent) == (payload, payload)

    token = verification_tokens.create_verification_token(
        db,
        id=new_id(),
        identifier=payload,
        value=payload,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    consumed = verification_tokens.consume_verification_token(db, identifier=payload, value=payload)
    assert consumed == token

    org = organizations.create_organization(
        db,
        organizations.CreateOrganizationParams(
            name=payload, slug=f"{payload}-{uuid.uuid4()}", description=payload, website_url=payload
        ),
    )
    assert org is not None
    assert organizations.get_organization_by_slug(db, slug=org.slug) == org
    listed = organizations.search_organizations(
        db, include_deleted=False, search=payload, skip_rows=0, max_rows=5
    )
    assert org in listed

    media = media_items.create_media_item(
        db,
        media_items.CreateMediaItemParams(
            creator_id=user.id,
            title=payload,
            description=payload,
            media_type="audio",
            r2_key=payload,
            mime_type=payload,
        ),
    )
    assert media is not None
    assert (media.title, media.r2_key, media.mime_type) == (payload, payload, payload)

    item = content.create_content(
        db,
        content.CreateContentParams(
            creator_id=user.id,
            organization_id=org.id,
            title=payload,
            slug=payload,
            description=payload,
            content_type="written",
            content_body=payload,
            category=payload,
            thumbnail_url=payload,
            tags=[payload, {"k": payload}],
        ),
    )
    assert item is not None
    assert (item.title, item.slug, item.content_body, item.category) == (payload,) * 4
    assert item.tags == [payload, {"k": payload}]
    assert (
        content.get_content_by_slug_in_organization(db, organization_id=org.id, slug=payload)
        == item
    )
    rows = content.search_content(
        db,
        content.SearchContentParams(
            search=payload, organization_id=org.id, category=payload, skip_rows=0, max_rows=5
        ),
    )
    assert rows == [item]

    assert catalog.snapshot(conn) == before_schema
    after = _counts(conn)
    assert after == {
        **before_counts,
        "users": before_counts["users"] + 1,
        "sessions": before_counts["sessions"] + 1,
        "organizations": before_counts["organizations"] + 1,
        "media_items": before_counts["media_items"] + 1,
        "content": before_counts["content"] + 1,
    }


# -- query plans on a large table ---------------------------------------------------

N_CONTENT = 100_000


@pytest.fixture(scope="module")
def large_db(pg_server: Any, migrated_template: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A migrated database with 100k content rows loaded through the generated COPY."""
    name = pg_server.create_database(template=migrated_template)
    url = pg_server.database_url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            keys = _load(dbtx.Conn.of(conn))
            conn.execute("VACUUM ANALYZE")
        yield url, keys
    finally:
        pg_server.drop_database(name)


def _load(db: dbtx.Conn) -> dict[str, Any]:
    creators = []
    for i in range(200):
        user = users.create_user(
            db, users.CreateUserParams(id=new_id(), name=f"Creator {i}", email=f"c{i}@x.test")
        )
        assert user is not None
        creators.append(user.id)
    orgs = [
        organizations.create_organization(
            db, organizations.CreateOrganizationParams(name=f"Org {i}", slug=f"org-{i}")
        )
        for i in range(300)
    ]
    org_ids = [org.id for org in orgs if org is not None]
    # Enough organizations and media that a sequential scan is never the cheap plan.
    db.execute(
        "INSERT INTO organizations (name, slug) SELECT 'Filler ' || g, 'filler-' || g"
        " FROM generate_series(1, 20000) g",
        (),
    )
    db.execute(
        "INSERT INTO media_items (creator_id, title, media_type, r2_key, status)"
        " SELECT $1, 'clip ' || g, 'video', 'k/' || g,"
        " (ARRAY['uploading', 'ready', 'failed'])[1 + g % 3]"
        " FROM generate_series(1, 20000) g",
        (creators[1],),
    )
    media = media_items.create_media_item(
        db,
        media_items.CreateMediaItemParams(
            creator_id=creators[0], title="m", media_type="video", r2_key="k"
        ),
    )
    assert media is not None
    base = datetime(2025, 1, 1, tzinfo=UTC)
    statuses = ["published", "draft", "archived"]
    rows = (
        content.ImportContentParams(
            id=uuid.uuid4(),
            creator_id=creators[i % 200],
            organization_id=org_ids[i % 300] if i % 4 else None,
            title=f"Title {i} about topic {i % 997}",
            slug=f"slug-{i}",
            content_type="video",
            category=f"cat-{i % 50}",
            tags=[],
            visibility="public",
            status=statuses[i % 3],
            published_at=base + timedelta(seconds=i) if i % 3 == 0 else None,
            view_count=0,
            purchase_count=0,
        )
        for i in range(N_CONTENT)
    )
    assert content.import_content(db, rows) == N_CONTENT
    first = content.list_published_content_first_page(db, max_rows=1)[0]
    return {"creator": creators[7], "org": orgs[5], "content": first, "media": media}


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _seq_scans(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]) -> list[str]:
    with psycopg.RawCursor(conn) as cur:
        cur.execute(f"EXPLAIN (FORMAT JSON) {query}", params)
        plan = cur.fetchone()[0][0]["Plan"]  # type: ignore[index]
    big = {"content", "media_items", "organizations"}
    return [
        n["Relation Name"]
        for n in _plan_nodes(plan)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in big
    ]


def _cases(k: dict[str, Any]) -> list[tuple[str, str, tuple[Any, ...]]]:
    c, org, creator, media = k["content"], k["org"], k["creator"], k["media"]
    no_filters = (None, None, None, None, None, None)
    return [
        ("get_content", content.GET_CONTENT, (c.id,)),
        ("by slug in org", content.GET_CONTENT_BY_SLUG_IN_ORGANIZATION, (org.id, "slug-5")),
        ("personal by slug", content.GET_PERSONAL_CONTENT_BY_SLUG, (creator, "slug-7")),
        ("relations", content.LIST_PUBLISHED_CONTENT_WITH_RELATIONS, (20,)),
        ("first page", content.LIST_PUBLISHED_CONTENT_FIRST_PAGE, (20,)),
        ("after", content.LIST_PUBLISHED_CONTENT_AFTER, (c.published_at, c.id, 20)),
        ("list, no filter", content.LIST_CONTENT, (*no_filters[:5], 0, 20)),
        ("list by org", content.LIST_CONTENT, (org.id, None, None, None, None, 0, 20)),
        ("list by creator", content.LIST_CONTENT, (None, creator, None, None, None, 0, 20)),
        ("list by category", content.LIST_CONTENT, (None, None, None, None, "cat-3", 0, 20)),
        (
            "list by search",
            content.SEARCH_CONTENT,
            (0, 20, "topic 42 ", None, None, None, None, None),
        ),
        ("count by org", content.COUNT_CONTENT, (org.id, None, None, None, None, None)),
        ("count by search", content.COUNT_CONTENT, (None, None, None, None, None, "topic 42 ")),
        ("increment views", content.INCREMENT_VIEW_COUNT, (c.id,)),
        ("publish", content.PUBLISH_CONTENT, (c.id,)),
        ("org by slug", organizations.GET_ORGANIZATION_BY_SLUG, ("org-5",)),
        ("org list", organizations.LIST_ORGANIZATIONS, (False, 0, 20)),
        ("org search", organizations.SEARCH_ORGANIZATIONS, (0, 20, False, "org-12")),
        ("ready media", media_items.LIST_READY_MEDIA_FOR_CREATOR, (creator, 20)),
        ("media by id", media_items.GET_MEDIA_ITEM, (media.id,)),
    ]


@pytest.mark.slow
def test_queries_use_indexes(large_db: tuple[str, dict[str, Any]]) -> None:
    """With 100k content rows, no list or lookup query sequentially scans a content table."""
    url, keys = large_db
    with psycopg.connect(url) as conn:
        bad = {
            name: scans
            for name, query, params in _cases(keys)
            if (scans := _seq_scans(conn, query, params))
        }
        conn.rollback()
    assert bad == {}


def test_keyset_walk_while_inserting(migrated_database: Callable[[], str]) -> None:
    """Walking 1,000 published rows page by page misses and repeats nothing while
    another connection keeps publishing newer rows."""
    url = migrated_database()
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        creator = users.create_user(db, users.CreateUserParams(id=new_id(), name="c", email="c@x"))
        assert creator is not None
        base = datetime(2026, 1, 1, tzinfo=UTC)
        original = [
            content.ImportContentParams(
                id=uuid.uuid4(),
                creator_id=creator.id,
                title=f"t{i}",
                slug=f"s{i}",
                content_type="audio",
                tags=[],
                visibility="public",
                status="published",
                published_at=base + timedelta(seconds=i // 2),
                view_count=0,
                purchase_count=0,
            )
            for i in range(1000)
        ]
        content.import_content(db, original)
        stop = threading.Event()
        writer = threading.Thread(target=_publish_until, args=(url, creator.id, stop))
        writer.start()
        try:
            seen = _walk(db, page_size=33)
        finally:
            stop.set()
            writer.join()
    ids = [c.id for c in seen]
    assert len(ids) == len(set(ids))
    assert {r.id for r in original} <= set(ids)


def _walk(db: dbtx.Conn, page_size: int) -> list[Any]:
    seen: list[Any] = []
    page = content.list_published_content_first_page(db, max_rows=page_size)
    while page:
        seen.extend(page)
        last = page[-1]
        assert last.published_at is not None
        page = content.list_published_content_after(
            db, after_published_at=last.published_at, after_id=last.id, max_rows=page_size
        )
    return seen


def _publish_until(url: str, creator_id: str, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        n = 0
        while not stop.is_set() and n < 5000:
            n += 1
            item = content.create_content(
                db,
                content.CreateContentParams(
                    creator_id=creator_id, title=f"new {n}", slug=f"new-{n}", content_type="video"
                ),
            )
            assert item is not None
            content.publish_content(db, id=item.id)
