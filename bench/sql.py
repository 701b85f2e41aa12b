"""The statements the hand-written peers run: the generated SQL, re-spelled per driver.

Every peer runs the same statement text as the generated function (the
constants of `codex_db.generated.content`), only with the placeholder style
its driver wants, so that the server does the same work for all of them.
"""

from __future__ import annotations

import re
from typing import Final, LiteralString

from codex_db.generated import content

__all__ = [
    "COLUMNS",
    "COPY_BINARY",
    "CREATE",
    "GET",
    "INCREMENT",
    "INSERT_ROW",
    "LIST",
    "LIST_ALL",
    "SLUG",
    "pyformat",
    "sqlalchemy_text",
]

GET: Final = content.GET_CONTENT
LIST: Final = content.LIST_PUBLISHED_CONTENT_AFTER
CREATE: Final = content.CREATE_CONTENT
INCREMENT: Final = content.INCREMENT_VIEW_COUNT
SLUG: Final = content.GET_PERSONAL_CONTENT_BY_SLUG
LIST_ALL: Final = content.LIST_CONTENT

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
