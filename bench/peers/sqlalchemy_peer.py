"""SQLAlchemy 2 (psycopg 3 driver): Core and ORM, written the way their docs show.

Reads and single inserts run on one held ``engine.connect()`` connection (an
``AUTOCOMMIT`` engine, like the other peers); the transaction workload uses
``engine.begin()`` on a default engine, a pool checkout per transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    FetchedValue,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    bindparam,
    create_engine,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session

from bench.core import Context, Runner, SyncRunner
from bench.peers._rows import copy_values
from codex_db._dsn import to_url

__all__ = [
    "bulk_executemany",
    "core_get",
    "core_insert",
    "core_list",
    "core_tx3",
    "engine",
    "orm_get",
    "orm_insert",
    "orm_list",
]

metadata = MetaData()

content_table = Table(
    "content",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("creator_id", Text, nullable=False),
    Column("organization_id", Uuid),
    Column("media_item_id", Uuid),
    Column("title", Text, nullable=False),
    Column("slug", Text, nullable=False),
    Column("description", Text),
    Column("content_type", Text, nullable=False),
    Column("thumbnail_url", Text),
    Column("content_body", Text),
    Column("category", Text),
    Column("tags", JSONB, nullable=False, server_default=FetchedValue()),
    Column("visibility", Text, nullable=False, server_default=FetchedValue()),
    Column("price_cents", Integer),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("published_at", DateTime(timezone=True)),
    Column("view_count", Integer, nullable=False, server_default=FetchedValue()),
    Column("purchase_count", Integer, nullable=False, server_default=FetchedValue()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("deleted_at", DateTime(timezone=True)),
)
c = content_table.c


class Base(DeclarativeBase):
    """Declarative base of the ORM peer."""


class ContentRecord(Base):
    """The ORM mapping of ``content`` (all columns, server defaults fetched on insert)."""

    __table__ = content_table
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy's documented spelling


_GET = select(content_table).where(c.id == bindparam("id"), c.deleted_at.is_(None))
_ORM_GET = select(ContentRecord).where(c.id == bindparam("id"), c.deleted_at.is_(None))
_LIST_WHERE = (
    c.status == "published",
    c.deleted_at.is_(None),
    tuple_(c.published_at, c.id) < tuple_(bindparam("after_at"), bindparam("after_id")),
)
_LIST_ORDER = (c.published_at.desc(), c.id.desc())
_LIST = select(content_table).where(*_LIST_WHERE).order_by(*_LIST_ORDER).limit(bindparam("n"))
_ORM_LIST = select(ContentRecord).where(*_LIST_WHERE).order_by(*_LIST_ORDER).limit(bindparam("n"))
_INSERT = insert(content_table).returning(*content_table.c)
_INCREMENT = (
    update(content_table)
    .where(c.id == bindparam("b_id"), c.deleted_at.is_(None))
    .values(view_count=c.view_count + 1)
    .returning(c.view_count)
)
_SLUG = select(content_table).where(
    c.creator_id == bindparam("creator"),
    c.organization_id.is_(None),
    c.slug == bindparam("slug"),
    c.deleted_at.is_(None),
)
_CREATE_FIELDS = (
    "creator_id", "organization_id", "media_item_id", "title", "slug", "description",
    "content_type", "thumbnail_url", "content_body", "category", "tags", "visibility",
    "price_cents", "status",
)  # fmt: skip


def engine(ctx: Context, autocommit: bool = True) -> Engine:
    """An engine on the benchmark database (``AUTOCOMMIT`` unless told otherwise)."""
    url = to_url(ctx.url, scheme="postgresql+psycopg")
    if autocommit:
        return create_engine(url, isolation_level="AUTOCOMMIT")
    return create_engine(url)


def _page(arg: tuple[Any, Any, int]) -> dict[str, Any]:
    return {"after_at": arg[0], "after_id": arg[1], "n": arg[2]}


def _values(p: Any) -> dict[str, Any]:
    return {name: getattr(p, name) for name in _CREATE_FIELDS}


def core_get(ctx: Context) -> Runner:
    """``conn.execute(select(...)).first()``."""
    eng = engine(ctx)
    conn = eng.connect()
    return SyncRunner(lambda id: conn.execute(_GET, {"id": id}).first(), eng.dispose)


def orm_get(ctx: Context) -> Runner:
    """``session.execute(select(Model)).scalar_one_or_none()``."""
    eng = engine(ctx)
    session = Session(eng.connect())
    return SyncRunner(
        lambda id: session.execute(_ORM_GET, {"id": id}).scalar_one_or_none(), eng.dispose
    )


def core_list(ctx: Context) -> Runner:
    """``conn.execute(select(...).limit(n)).all()``: Row objects."""
    eng = engine(ctx)
    conn = eng.connect()
    return SyncRunner(lambda arg: conn.execute(_LIST, _page(arg)).all(), eng.dispose)


def orm_list(ctx: Context) -> Runner:
    """``session.scalars(select(Model).limit(n)).all()``: mapped objects."""
    eng = engine(ctx)
    session = Session(eng.connect())

    def op(arg: tuple[Any, Any, int]) -> object:
        rows = session.scalars(_ORM_LIST, _page(arg)).all()
        session.expunge_all()
        return rows

    return SyncRunner(op, eng.dispose)


def core_insert(ctx: Context) -> Runner:
    """``conn.execute(insert(...).returning(...), values).one()``."""
    eng = engine(ctx)
    conn = eng.connect()
    return SyncRunner(lambda p: conn.execute(_INSERT, _values(p)).one(), eng.dispose)


def orm_insert(ctx: Context) -> Runner:
    """``session.add(obj); session.flush()`` (INSERT ... RETURNING the server defaults)."""
    eng = engine(ctx)
    session = Session(eng.connect())

    def op(p: Any) -> object:
        record = ContentRecord(**_values(p))
        session.add(record)
        session.flush()
        session.expunge(record)
        return record

    return SyncRunner(op, eng.dispose)


def core_tx3(ctx: Context) -> Runner:
    """Get, increment, get-by-slug in ``with engine.begin() as conn``."""
    eng = engine(ctx, autocommit=False)

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with eng.begin() as conn:
            conn.execute(_GET, {"id": id}).first()
            conn.execute(_INCREMENT, {"b_id": id}).scalar()
            conn.execute(_SLUG, {"creator": creator, "slug": slug}).first()

    return SyncRunner(op, eng.dispose)


def bulk_executemany(ctx: Context) -> Runner:
    """``conn.execute(insert(table), [dicts])`` (SQLAlchemy's "insertmanyvalues" batching)."""
    eng = engine(ctx)
    conn = eng.connect()
    names = [col.name for col in content_table.c][:18]
    stmt = insert(content_table)

    def op(rows: Sequence[Any]) -> None:
        conn.execute(
            stmt, [dict(zip(names, copy_values(r, wrap=False), strict=True)) for r in rows]
        )

    return SyncRunner(op, eng.dispose)
