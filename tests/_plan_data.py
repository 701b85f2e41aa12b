"""Skewed test data for the plan tests: 100k rows per listed table, rare and common values.

Every filter of a list or count query gets a *common* value (half the rows or
more), a long tail and a *rare* value (a handful of rows), so that a plan which
walks an index in listing order and filters shows up as thousands of rows
removed, and statistics sampled by ``ANALYZE`` differ between runs. `load`
returns the keys the plan cases use (`Keys`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from codex_db import dbtx
from codex_db.generated import content

__all__ = ["RARE", "Keys", "load"]

RARE = 5
"""Rows carrying each rare value."""

_BASE = datetime(2025, 1, 1, tzinfo=UTC)
_WORDS = ("piano", "jazz", "vinyl", "guitar", "drums", "synth", "tango", "opera")


@dataclass(frozen=True)
class Keys:
    """Values the plan cases filter on: ``common_*`` match half the rows, ``rare_*`` `RARE`."""

    common_creator: str
    rare_creator: str
    common_org: uuid.UUID
    rare_org: uuid.UUID
    rare_category: str
    rare_search: str
    """A title substring of 11 rows at 100k (``number 4242`` as in issue 21)."""
    common_search: str
    rare_org_search: str
    cursor: tuple[datetime, uuid.UUID]
    """``(published_at, id)`` of a published row in the middle of the keyset order."""
    common_account_user: str
    rare_account_user: str


def load(conn: psycopg.Connection[Any], rows: int, seed: int = 21) -> Keys:
    """Load *rows* users, organizations, media items, accounts and content rows.

    *conn* must be in autocommit mode; the caller runs ``ANALYZE``.
    """
    rng = random.Random(seed)  # noqa: S311 - test data
    _load_users(conn, rows)
    orgs = _load_organizations(conn, rows)
    _load_media(conn, rows)
    _load_accounts(conn, rows)
    dbtx.configure(conn)
    db = dbtx.Conn.of(conn)
    content.import_content(db, _content_rows(rows, rng, orgs))
    cursor = conn.execute(
        "SELECT published_at, id FROM content WHERE status = 'published'"
        " ORDER BY published_at DESC, id DESC OFFSET %s LIMIT 1",
        (rows // 4,),
    ).fetchone()
    assert cursor is not None
    return Keys(
        common_creator="u-common",
        rare_creator="u-rare",
        common_org=orgs[0],
        rare_org=orgs[1],
        rare_category="rare-category",
        rare_search="number 4242",
        common_search="piano",
        rare_org_search="guild 4242",
        cursor=(cursor[0], cursor[1]),
        common_account_user="u-common",
        rare_account_user="u-rare",
    )


def _load_users(conn: psycopg.Connection[Any], rows: int) -> None:
    conn.execute(
        "INSERT INTO users (id, name, email, created_at, deleted_at)"
        " SELECT 'u-' || g, 'User ' || g, 'u' || g || '@x.test',"
        "        %(base)s + g * interval '1 second',"
        "        CASE WHEN g %% 100 = 7 THEN %(base)s END"
        " FROM generate_series(1, %(rows)s) g",
        {"base": _BASE, "rows": rows},
    )
    conn.execute(
        "INSERT INTO users (id, name, email) VALUES"
        " ('u-common', 'Common', 'common@x.test'), ('u-rare', 'Rare', 'rare@x.test')"
    )


def _load_organizations(conn: psycopg.Connection[Any], rows: int) -> list[uuid.UUID]:
    """Organizations named ``<word> guild <n>``; returns the common and the rare one first."""
    common, rare = uuid.uuid4(), uuid.uuid4()
    conn.execute(
        "INSERT INTO organizations (id, name, slug) VALUES"
        " (%s, 'Common org', 'common-org'), (%s, 'Rare org', 'rare-org')",
        (common, rare),
    )
    conn.execute(
        "INSERT INTO organizations (name, slug, deleted_at)"
        " SELECT (ARRAY['Piano', 'Jazz', 'Vinyl', 'Opera'])[1 + g %% 4] || ' guild ' || g,"
        "        'org-' || g, CASE WHEN g %% 100 = 3 THEN now() END"
        " FROM generate_series(1, %s) g",
        (rows,),
    )
    tail = conn.execute("SELECT id FROM organizations WHERE slug LIKE 'org-%%' LIMIT 500")
    return [common, rare, *(r[0] for r in tail)]


def _load_media(conn: psycopg.Connection[Any], rows: int) -> None:
    conn.execute(
        "INSERT INTO media_items (creator_id, title, media_type, r2_key, status, created_at)"
        " SELECT CASE WHEN g <= %(rare)s THEN 'u-rare' WHEN g %% 2 = 0 THEN 'u-common'"
        "             ELSE 'u-' || (g %% 1000 + 1) END,"
        "        'clip ' || g, 'video', 'k/' || g,"
        "        (ARRAY['ready', 'ready', 'uploading', 'failed'])[1 + g %% 4],"
        "        %(base)s + g * interval '1 second'"
        " FROM generate_series(1, %(rows)s) g",
        {"rare": RARE * 2, "rows": rows, "base": _BASE},
    )


def _load_accounts(conn: psycopg.Connection[Any], rows: int) -> None:
    conn.execute(
        "INSERT INTO accounts (id, account_id, provider_id, user_id, created_at)"
        " SELECT 'a-' || g, 'acct-' || g, (ARRAY['github', 'google', 'credential'])[1 + g %% 3],"
        "        CASE WHEN g <= 2 THEN 'u-rare' WHEN g %% 2 = 0 THEN 'u-common'"
        "             ELSE 'u-' || (g %% 50000 + 1) END,"
        "        %(base)s + g * interval '1 second'"
        " FROM generate_series(1, %(rows)s) g",
        {"rows": rows, "base": _BASE},
    )


def _content_rows(
    rows: int, rng: random.Random, orgs: list[uuid.UUID]
) -> Iterator[content.ImportContentParams]:
    for n in range(rows):
        rare = n % (rows // RARE) == 1  # RARE rows spread over the whole table
        status = "archived" if rare else ("published" if n % 5 else "draft")
        yield content.ImportContentParams(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            creator_id="u-rare" if rare else ("u-common" if n % 2 else f"u-{n % 1000 + 1}"),
            organization_id=_org(n, rare, orgs),
            title=f"{_WORDS[n % len(_WORDS)].title()} number {n}",
            slug=f"item-{n}",
            content_type="written" if rare else ("video" if n % 3 else "audio"),
            category="rare-category" if rare else _category(n),
            tags=[],
            visibility="public",
            status=status,
            published_at=_BASE + timedelta(seconds=n) if status == "published" else None,
            view_count=n % 1000,
            purchase_count=0,
        )


def _org(n: int, rare: bool, orgs: list[uuid.UUID]) -> uuid.UUID | None:
    if rare:
        return orgs[1]
    if n % 4 == 0:
        return None
    return orgs[0] if n % 2 else orgs[2 + n % (len(orgs) - 2)]


def _category(n: int) -> str | None:
    if n % 2:
        return "music"
    return None if n % 10 == 0 else f"cat-{n % 200}"
