"""Round trip of the macros case: embeds, slices, nargs, COPY, params structs; sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.macros.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "macros" / "schema.sql").read_text()
Status = models.BillingInvoiceStatus


@pytest.fixture
def db(fresh_database: Callable[..., str]) -> object:
    conn = psycopg.connect(fresh_database(SCHEMA), autocommit=True)
    dbtx.configure(conn)
    models.register_types(conn)
    yield dbtx.Conn.of(conn)
    conn.close()


def _seed(db: dbtx.Conn) -> tuple[UUID, int, int]:
    ada = queries.create_author(db, name="Ada", bio={"born": 1815})
    assert isinstance(ada, UUID)
    queries.create_author(db, name="Bob", bio=None)
    paid = queries.CreateInvoiceParams(author_id=ada, status=Status.PAID, total=Decimal("10.00"))
    orphan = queries.CreateInvoiceParams(author_id=None, status=Status.DRAFT, total=Decimal("2.50"))
    first, second = queries.create_invoice(db, paid), queries.create_invoice(db, orphan)
    assert first is not None and second is not None
    return ada, first.id, second.id


def test_embed_inner_join(db: dbtx.Conn) -> None:
    """sqlc.embed builds nested model Structs from one flat row."""
    ada, first, _ = _seed(db)
    row = queries.get_invoice_with_author(db, id=first)
    assert row is not None
    assert (
        isinstance(row.billing_invoice, models.BillingInvoice)
        and row.billing_invoice.status is Status.PAID
    )
    assert row.author == models.Author(ada, "Ada", {"born": 1815})
    assert row.author_name == "Ada"
    assert queries.get_invoice_with_author(db, id=-1) is None


def test_embed_left_join_gives_none(db: dbtx.Conn) -> None:
    """An embed on the nullable side of a LEFT JOIN is None when the joined row is missing."""
    _, first, second = _seed(db)
    rows = queries.list_invoices_with_optional_author(db)
    assert [r.billing_invoice.id for r in rows] == [first, second]
    assert rows[0].author is not None and rows[0].author.name == "Ada"
    assert rows[1].author is None


def test_slice_in_and_not_in(db: dbtx.Conn) -> None:
    """sqlc.slice takes a list: IN becomes = ANY, NOT IN becomes <> ALL."""
    ada, _, _ = _seed(db)
    assert [r.name for r in queries.list_authors_by_ids(db, ids=[ada])] == ["Ada"]
    assert queries.list_authors_by_ids(db, ids=[]) == []
    assert queries.list_authors_except(db, names=["Ada"]) == ["Bob"]
    assert queries.list_authors_except(db, names=[]) == ["Ada", "Bob"]


def test_narg_filters(db: dbtx.Conn) -> None:
    """sqlc.narg params accept None and values."""
    _, first, second = _seed(db)
    assert [r.id for r in queries.search_invoices(db, status=None, min_total=Decimal(0))] == [
        first,
        second,
    ]
    paid = queries.search_invoices(db, status=Status.PAID, min_total=Decimal(0))
    assert [(r.id, r.status) for r in paid] == [(first, Status.PAID)]


def test_copyfrom(db: dbtx.Conn) -> None:
    """:copyfrom writes rows with COPY and returns the row count, json wrapped."""
    ada, _, _ = _seed(db)
    events = [
        queries.CopyEventsParams(author_id=ada, kind="login", payload={"ip": "::1"}),
        queries.CopyEventsParams(author_id=None, kind="boot", payload=None),
    ]
    assert queries.copy_events(db, events) == 2
    assert queries.count_events(db) == queries.CountEventsRow(2, 1)
    tags = (queries.CopyTagsParams(name=f"t{i}", weight=i) for i in range(3))
    assert queries.copy_tags(db, tags) == 3
    assert queries.list_tags(db) == [models.Tag("t0", 0), models.Tag("t1", 1), models.Tag("t2", 2)]
    assert [t.name for t in queries.iter_list_tags(db)] == ["t0", "t1", "t2"]


async def _async_flow(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        await models.register_types_async(conn)
        db = dbtx.AsyncConn.of(conn)
        ada = await queries_async.create_author(db, name="Ada", bio=None)
        assert isinstance(ada, UUID)
        params = queries.CreateInvoiceParams(author_id=None, status=Status.OPEN, total=Decimal(1))
        invoice = await queries_async.create_invoice(db, params)
        assert invoice is not None and invoice.status is Status.OPEN
        rows = await queries_async.list_invoices_with_optional_author(db)
        assert rows[0].author is None
        assert [r.name async for r in queries_async.iter_list_authors_by_ids(db, ids=[ada])] == [
            "Ada"
        ]
        copied = await queries_async.copy_tags(db, [queries.CopyTagsParams(name="x", weight=1)])
        assert copied == 1
        assert await queries_async.list_authors_except(db, names=["Ada"]) == []


def test_macros_async(fresh_database: Callable[..., str]) -> None:
    """The async module handles embeds, slices, streaming and COPY too."""
    asyncio.run(_async_flow(fresh_database(SCHEMA)))
