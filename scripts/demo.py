"""The codex-db demo: the reference README's scenarios, run against a real database.

Uses ``DATABASE_URL`` when set (migrating it first), otherwise the embedded
PostgreSQL 18 in the project's ``.codex-db/pgdata``. Every run uses fresh names, so it can
run again and again on the same database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from codex_db import (
    DBMethod,
    Settings,
    _target,
    db_http,
    db_ws,
    get_all_trigger_names,
    get_constraint_name,
    get_error_detail,
    get_trigger_metadata,
    is_check_violation,
    is_foreign_key_violation,
    is_not_null_violation,
    is_unique_violation,
    migrate,
    new_id,
    paginate,
    test_db_connection,
)
from codex_db.auth import get_session, sign_session_token
from codex_db.generated import content, media_items, models, organizations, sessions, users
from codex_db.project import Project
from codex_db.server import default_data_dir
from codex_db.workflow import seed

T = TypeVar("T")


def main() -> None:
    """Walk through every scenario; raise on the first thing that does not behave."""
    run = uuid.uuid4().hex[:6]
    _connect()
    _seed()
    jane, org, video = _create_in_one_transaction(run)
    _publish_and_join(video)
    _filter_and_paginate(org)
    _media_lifecycle(jane)
    _soft_delete_and_restore(video)
    _constraint_violations(jane, org)
    _delete_organization(jane, run)
    _auth(jane)
    _triggers()
    print("\ndemo finished: every scenario behaved as documented")


def _section(title: str) -> None:
    print(f"\n== {title}")


def _connect() -> None:
    settings = Settings.from_env()
    _section("database")
    if settings.method is not DBMethod.EMBEDDED and settings.url:
        print(f"using {settings.url} ({settings.method.value})")
        applied = migrate.apply(
            settings.url.reveal(), progress=lambda mid: print(f"  applied {mid}")
        )
        print(f"  {len(applied)} migration(s) applied" if applied else "  migrations up to date")
    else:
        where = default_data_dir()
        print(f"no DATABASE_URL: the embedded PostgreSQL 18 in {where} (migrated on start)")
    test_db_connection()
    version = db_http.query_one("SHOW server_version")
    print(f"connected: PostgreSQL {version[0] if version else '?'}  {db_http!r}")


def _seed() -> None:
    _section("development data: the seed (codex-db seed runs the same files)")
    target = _target.start(_target.resolve())
    files = seed.seed(target.conninfo, Project.packaged())
    print(f"ran {', '.join(p.name for p in files)} (idempotent: every run leaves the same rows)")
    welcome = content.get_content_by_slug_in_organization(
        db_http, slug="welcome", organization_id=_ACME
    )
    if welcome is not None:
        print(f"seeded content {welcome.title!r} ({welcome.status}, {welcome.visibility})")


#: The organization of seed/01_demo.sql.
_ACME = uuid.UUID("5eed0000-0000-4000-8000-000000000001")


def _create_in_one_transaction(run: str) -> tuple[models.User, models.Organization, models.Content]:
    _section("a user, an organization and content in one transaction (db_ws)")
    with db_ws.transaction() as tx:
        new_user = users.CreateUserParams(
            id=new_id(), name="Jane Doe", email=f"jane-{run}@example.com"
        )
        jane = _one(users.create_user(tx, new_user))
        new_org = organizations.CreateOrganizationParams(
            name=f"Acme {run}", slug=f"acme-{run}", description="A great company", owner_id=jane.id
        )
        org = _one(organizations.create_organization(tx, new_org))
        video = content.create_content(
            tx,
            content.CreateContentParams(
                creator_id=jane.id,
                organization_id=org.id,
                title="Welcome Video",
                slug="welcome",
                content_type="video",
                tags=["intro", "welcome"],
                price_cents=499,
            ),
        )
    video = _one(video)
    print(f"user {jane.name} <{jane.email}>  id={jane.id}")
    print(f"organization {org.name!r} slug={org.slug}")
    print(f"content {video.title!r} status={video.status} visibility={video.visibility}", end=" ")
    print(f"tags={video.tags}")
    return jane, org, video


def _publish_and_join(video: models.Content) -> None:
    _section("publish, then the relational query (content + creator + organization + media)")
    published = content.publish_content(db_http, id=video.id)
    published = _one(published)
    print(f"published at {published.published_at:%Y-%m-%d %H:%M:%S %Z}")
    rows = content.list_published_content_with_relations(db_http, max_rows=3)
    for row in rows:
        org = row.organization.name if row.organization else "personal"
        media = row.media_item.status if row.media_item else "no media"
        print(f"  {row.content.title!r} by {row.user.name} in {org} ({media})")


def _filter_and_paginate(org: models.Organization) -> None:
    _section("filters and pagination (items and total together)")
    filters: dict[str, Any] = {
        "organization_id": org.id,
        "status": "published",
        "search": "welcome",
    }
    page = paginate(
        lambda offset, limit: content.search_content(
            db_http, content.SearchContentParams(**filters, skip_rows=offset, max_rows=limit)
        ),
        lambda: content.count_content(db_http, content.CountContentParams(**filters)),
        page=1,
        page_size=20,
    )
    found = f"{len(page.items)} of {page.total} item(s) for {filters['search']!r}"
    print(f"page {page.page}/{page.pages}: {found}")
    literal = content.count_content(db_http, content.CountContentParams(search="100%_off"))
    print(f"search '100%_off' matches literally: {literal} item(s)")


def _media_lifecycle(jane: models.User) -> None:
    _section("media: uploading -> uploaded -> transcoding -> ready")
    media = media_items.create_media_item(
        db_http,
        media_items.CreateMediaItemParams(
            creator_id=jane.id,
            title="My Video",
            media_type="video",
            r2_key=f"originals/{uuid.uuid4()}/video.mp4",
            file_size_bytes=1_024_000,
            mime_type="video/mp4",
        ),
    )
    media = _one(media)
    steps = [media.status]
    for step in (media_items.mark_media_uploaded, media_items.mark_media_transcoding):
        item = step(db_http, id=media.id)
        item = _one(item)
        steps.append(item.status)
    ready = media_items.mark_media_ready(
        db_http,
        media_items.MarkMediaReadyParams(
            id=media.id,
            duration_seconds=120,
            width=1920,
            height=1080,
            hls_master_playlist_key=f"hls/{media.id}/master.m3u8",
            thumbnail_key=f"thumbnails/{media.id}/thumb.jpg",
        ),
    )
    ready = _one(ready)
    steps.append(ready.status)
    print(" -> ".join(steps), f"({ready.width}x{ready.height}, {ready.duration_seconds}s)")
    listed = media_items.list_ready_media_for_creator(db_http, creator_id=jane.id, max_rows=10)
    print(f"ready media for {jane.name}: {len(listed)}")


def _soft_delete_and_restore(video: models.Content) -> None:
    _section("soft delete and restore")
    content.soft_delete_content(db_http, id=video.id)
    print(f"after soft delete, get_content -> {content.get_content(db_http, id=video.id)}")
    content.restore_content(db_http, id=video.id)
    restored = content.get_content(db_http, id=video.id)
    restored = _one(restored)
    print(f"after restore: {restored.title!r} is back (status {restored.status})")


def _constraint_violations(jane: models.User, org: models.Organization) -> None:
    _section("constraint violations, caught with the error utilities")
    attempts: list[tuple[str, Any]] = [
        (
            "duplicate email",
            lambda: users.create_user(
                db_http, users.CreateUserParams(id=new_id(), name="Copy", email=jane.email)
            ),
        ),
        (
            "unknown organization",
            lambda: content.create_content(
                db_http,
                content.CreateContentParams(
                    creator_id=jane.id,
                    organization_id=uuid.uuid4(),
                    title="x",
                    slug="x",
                    content_type="video",
                ),
            ),
        ),
        (
            "missing name",
            lambda: db_http.run(
                "INSERT INTO users (id, name, email) VALUES (%s, NULL, %s)", (new_id(), "n@x.test")
            ),
        ),
        (
            "bad content type",
            lambda: content.create_content(
                db_http,
                content.CreateContentParams(
                    creator_id=jane.id,
                    organization_id=org.id,
                    title="x",
                    slug=f"x-{new_id()}",
                    content_type="podcast",
                ),
            ),
        ),
    ]
    for label, attempt in attempts:
        try:
            attempt()
        except Exception as error:
            kind = _classify(error)
            print(f"  {label:22} -> {kind:12} constraint={get_constraint_name(error)}")
            detail = get_error_detail(error)
            if detail:
                print(f"  {'':22}    {detail}")
        else:
            raise SystemExit(f"demo: {label} was accepted, the schema should refuse it")


def _classify(error: Exception) -> str:
    checks = [
        (is_unique_violation, "unique"),
        (is_foreign_key_violation, "foreign key"),
        (is_not_null_violation, "not null"),
        (is_check_violation, "check"),
    ]
    for predicate, name in checks:
        if predicate(error):
            return name
    raise error


def _delete_organization(jane: models.User, run: str) -> None:
    _section("deleting an organization unpublishes its content (trigger)")
    doomed = organizations.create_organization(
        db_http, organizations.CreateOrganizationParams(name="Short-lived", slug=f"gone-{run}")
    )
    doomed = _one(doomed)
    item = content.create_content(
        db_http,
        content.CreateContentParams(
            creator_id=jane.id,
            organization_id=doomed.id,
            title="Org video",
            slug="org-video",
            content_type="video",
        ),
    )
    item = _one(item)
    content.publish_content(db_http, id=item.id)
    db_http.run("DELETE FROM organizations WHERE id = %s", (doomed.id,))
    after = content.get_content(db_http, id=item.id)
    after = _one(after)
    print(f"before: status=published organization={doomed.slug}")
    print(f"after:  status={after.status} organization={after.organization_id}", end=" ")
    print(f"published_at={after.published_at}")


def _auth(jane: models.User) -> None:
    _section("a better-auth session cookie, recognised from Python")
    secret = new_id()
    login = sessions.create_session(
        db_http,
        sessions.CreateSessionParams(
            id=new_id(),
            token=new_id(),
            user_id=jane.id,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ),
    )
    login = _one(login)
    cookie = f"better-auth.session_token={sign_session_token(login.token, secret)}"
    found = get_session({"Cookie": cookie}, secret=secret)
    forged = get_session({"Cookie": cookie[:-6] + "AAAA%3D"}, secret=secret)
    print(f"signed cookie -> {found.user.email if found else None}; forged cookie -> {forged}")
    sessions.delete_session(db_http, token=login.token)


def _triggers() -> None:
    _section("the trigger registry")
    for name in get_all_trigger_names():
        meta = get_trigger_metadata(name)
        print(f"  {meta.table:20} {meta.timing} {meta.event:22} {name}")
    org_trigger = get_trigger_metadata("unpublish_content_on_org_delete")
    print(f"why: {org_trigger.business_reason}")


def _one(value: T | None) -> T:
    """*value*, which a query must have returned."""
    if value is None:
        raise SystemExit("demo: a query returned no row where one was expected")
    return value


if __name__ == "__main__":
    main()
