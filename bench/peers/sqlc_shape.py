"""The code shape upstream sqlc-gen-python generates (``sqlalchemy.text()`` + dataclasses).

Upstream emits a ``Querier`` holding a SQLAlchemy ``Connection``; each method
builds ``sqlalchemy.text(QUERY)`` with ``:pN`` parameters, executes it and
copies the row into a ``@dataclasses.dataclass`` field by field (``:many``
yields them). It has no ``:copyfrom``, so it has no bulk-insert peer.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy
from psycopg.types.json import Jsonb

from bench import sql
from bench.core import Context, Runner, SyncRunner
from bench.peers import sqlalchemy_peer

__all__ = ["Querier", "get", "insert", "list_rows", "tx3"]

GET_CONTENT = sql.sqlalchemy_text(sql.GET)
LIST_PUBLISHED_CONTENT_AFTER = sql.sqlalchemy_text(sql.LIST)
CREATE_CONTENT = sql.sqlalchemy_text(sql.CREATE)
INCREMENT_VIEW_COUNT = sql.sqlalchemy_text(sql.INCREMENT)
GET_PERSONAL_CONTENT_BY_SLUG = sql.sqlalchemy_text(sql.SLUG)


@dataclasses.dataclass()
class Content:
    """``models.Content`` as upstream generates it."""

    id: uuid.UUID
    creator_id: str
    organization_id: uuid.UUID | None
    media_item_id: uuid.UUID | None
    title: str
    slug: str
    description: str | None
    content_type: str
    thumbnail_url: str | None
    content_body: str | None
    category: str | None
    tags: Any
    visibility: str
    price_cents: int | None
    status: str
    published_at: datetime.datetime | None
    view_count: int
    purchase_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


def _content(row: Any) -> Content:
    return Content(
        id=row[0],
        creator_id=row[1],
        organization_id=row[2],
        media_item_id=row[3],
        title=row[4],
        slug=row[5],
        description=row[6],
        content_type=row[7],
        thumbnail_url=row[8],
        content_body=row[9],
        category=row[10],
        tags=row[11],
        visibility=row[12],
        price_cents=row[13],
        status=row[14],
        published_at=row[15],
        view_count=row[16],
        purchase_count=row[17],
        created_at=row[18],
        updated_at=row[19],
        deleted_at=row[20],
    )


class Querier:
    """The generated query class (upstream inlines the field copy in every method)."""

    def __init__(self, conn: sqlalchemy.engine.Connection) -> None:
        self._conn = conn

    def get_content(self, *, id: uuid.UUID) -> Content | None:
        row = self._conn.execute(sqlalchemy.text(GET_CONTENT), {"p1": id}).first()
        if row is None:
            return None
        return _content(row)

    def list_published_content_after(
        self, *, after_published_at: datetime.datetime, after_id: uuid.UUID, max_rows: int
    ) -> Iterator[Content]:
        result = self._conn.execute(
            sqlalchemy.text(LIST_PUBLISHED_CONTENT_AFTER),
            {"p1": after_published_at, "p2": after_id, "p3": max_rows},
        )
        for row in result:
            yield _content(row)

    def create_content(self, arg: Any) -> Content | None:
        row = self._conn.execute(
            sqlalchemy.text(CREATE_CONTENT),
            {
                "p1": arg.creator_id,
                "p2": arg.organization_id,
                "p3": arg.media_item_id,
                "p4": arg.title,
                "p5": arg.slug,
                "p6": arg.description,
                "p7": arg.content_type,
                "p8": arg.thumbnail_url,
                "p9": arg.content_body,
                "p10": arg.category,
                # upstream passes Any through; psycopg needs the Jsonb wrapper for a list
                "p11": Jsonb(arg.tags),
                "p12": arg.visibility,
                "p13": arg.price_cents,
                "p14": arg.status,
            },
        ).first()
        if row is None:
            return None
        return _content(row)

    def increment_view_count(self, *, id: uuid.UUID) -> int | None:
        row = self._conn.execute(sqlalchemy.text(INCREMENT_VIEW_COUNT), {"p1": id}).first()
        if row is None:
            return None
        return int(row[0])

    def get_personal_content_by_slug(self, *, creator_id: str, slug: str) -> Content | None:
        row = self._conn.execute(
            sqlalchemy.text(GET_PERSONAL_CONTENT_BY_SLUG), {"p1": creator_id, "p2": slug}
        ).first()
        if row is None:
            return None
        return _content(row)


def _querier(ctx: Context) -> tuple[sqlalchemy.Engine, Querier]:
    eng = sqlalchemy_peer.engine(ctx)
    return eng, Querier(eng.connect())


def get(ctx: Context) -> Runner:
    """``Querier.get_content``."""
    eng, q = _querier(ctx)
    return SyncRunner(lambda id: q.get_content(id=id), eng.dispose)


def list_rows(ctx: Context) -> Runner:
    """``list(Querier.list_published_content_after(...))``."""
    eng, q = _querier(ctx)

    def op(arg: tuple[Any, Any, int]) -> object:
        at, id, n = arg
        return list(q.list_published_content_after(after_published_at=at, after_id=id, max_rows=n))

    return SyncRunner(op, eng.dispose)


def insert(ctx: Context) -> Runner:
    """``Querier.create_content``."""
    eng, q = _querier(ctx)
    return SyncRunner(q.create_content, eng.dispose)


def tx3(ctx: Context) -> Runner:
    """The three statements in ``with engine.begin() as conn: q = Querier(conn)``."""
    eng = sqlalchemy_peer.engine(ctx, autocommit=False)

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with eng.begin() as conn:
            q = Querier(conn)
            q.get_content(id=id)
            q.increment_view_count(id=id)
            q.get_personal_content_by_slug(creator_id=creator, slug=slug)

    return SyncRunner(op, eng.dispose)
