"""The statements the hand-written peers run: the generated SQL, re-spelled per driver.

Every peer runs the same statement text as the generated function (the
constants of `codex_db.generated.content`), only with the placeholder style
its driver wants, so that the server does the same work for all of them.
"""

from __future__ import annotations

import re
from typing import Final, LiteralString

from codex_db.generated import content, media_items

__all__ = [
    "CHILDREN",
    "COLUMNS",
    "COPY_BINARY",
    "CREATE",
    "GET",
    "GROUPED",
    "INCREMENT",
    "INSERT_ROW",
    "LIST",
    "LIST_ALL",
    "PARENTS",
    "SLUG",
    "WITH_JSON_AGG",
    "pyformat",
    "sqlalchemy_text",
]

GET: Final = content.GET_CONTENT
LIST: Final = content.LIST_PUBLISHED_CONTENT_AFTER
CREATE: Final = content.CREATE_CONTENT
INCREMENT: Final = content.INCREMENT_VIEW_COUNT
SLUG: Final = content.GET_PERSONAL_CONTENT_BY_SLUG
LIST_ALL: Final = content.LIST_CONTENT
GROUPED: Final = media_items.LIST_CREATORS_WITH_MEDIA

_USERS = "id, name, email, email_verified, image, created_at, updated_at, deleted_at"
_MEDIA = (
    "id, creator_id, title, description, media_type, status, r2_key, file_size_bytes,"
    " mime_type, duration_seconds, width, height, hls_master_playlist_key, thumbnail_key,"
    " uploaded_at, created_at, updated_at, deleted_at"
)
PARENTS: Final = (
    "SELECT " + _USERS + " FROM users WHERE id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id"
)
"""`GROUPED`'s parents alone: the first of the two queries that build the same result."""
CHILDREN: Final = (
    "SELECT " + _MEDIA + " FROM media_items"
    " WHERE creator_id = ANY($1::text[]) AND deleted_at IS NULL"
    " ORDER BY creator_id, created_at DESC, id DESC"
)
"""`GROUPED`'s children of the parents found, the second query."""
WITH_JSON_AGG: Final = (
    "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at,"
    " u.deleted_at, coalesce(json_agg(m ORDER BY m.created_at DESC, m.id DESC)"
    " FILTER (WHERE m.id IS NOT NULL), '[]')::text"
    " FROM users u"
    " LEFT JOIN media_items m ON m.creator_id = u.id AND m.deleted_at IS NULL"
    " WHERE u.id = ANY($1::text[]) AND u.deleted_at IS NULL"
    " GROUP BY u.id ORDER BY u.id"
)
"""`GROUPED` with the children as one ``json_agg`` per parent (sent as text, decoded typed)."""

COLUMNS: Final = (
    "id",
    "creator_id",
    "organization_id",
    "media_item_id",
    "title",
    "slug",
    "description",
    "content_type",
    "thumbnail_url",
    "content_body",
    "category",
    "tags",
    "visibility",
    "price_cents",
    "status",
    "published_at",
    "view_count",
    "purchase_count",
)
"""The columns the ``:copyfrom`` query (and the bulk-insert peers) write."""

INSERT_ROW: Final = (
    "INSERT INTO content (id, creator_id, organization_id, media_item_id, title, slug,"
    " description, content_type, thumbnail_url, content_body, category, tags, visibility,"
    " price_cents, status, published_at, view_count, purchase_count)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
)
"""One row of the bulk-insert workload, for ``executemany``."""

COPY_BINARY: Final = (
    "COPY content (id, creator_id, organization_id, media_item_id, title, slug, description,"
    " content_type, thumbnail_url, content_body, category, tags, visibility, price_cents,"
    " status, published_at, view_count, purchase_count) FROM STDIN (FORMAT BINARY)"
)

_DOLLAR = re.compile(r"\$(\d+)")


def _check_order(query: str) -> None:
    numbers = [int(n) for n in _DOLLAR.findall(query)]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"placeholders must be $1..$n once each and in order, got {numbers}")


def pyformat(query: LiteralString) -> LiteralString:
    """*query* with ``$n`` turned into ``%s`` (psycopg's client-side cursor)."""
    _check_order(query)
    return _DOLLAR.sub("%s", query)


def sqlalchemy_text(query: str) -> str:
    """*query* as sqlc-gen-python spells it for ``sqlalchemy.text()``.

    Placeholders become ``:pN``; every other colon is escaped (``\\:``).
    """
    return _DOLLAR.sub(r":p\1", query.replace(":", "\\:"))
