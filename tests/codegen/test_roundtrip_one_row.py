"""Round trip of the one_row case: :one queries proven to return a row return it, not None."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType, NoneType
from typing import get_args

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.one_row.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "one_row" / "schema.sql").read_text()

PROVEN: dict[str, object] = {
    "count_items": int,
    "count_unscored": int,
    "create_cell": models.Cell,
    "create_guarded": models.Guarded,
    "create_item": models.Item,
    "create_item_id": int,
    "echo_next": queries.EchoNextRow,
    "item_stats": queries.ItemStatsRow,
    "name_taken": bool,
    "ping": int,
    "start_counter": models.Counter,
    "total_score": int,
    "upsert_item": models.Item,
}
"""Functions typed without ``| None``; every other :one function of the case keeps it."""


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield dbtx.Conn.of(conn)


@pytest.mark.parametrize("module", [queries, queries_async], ids=["sync", "async"])
def test_return_annotations(module: ModuleType) -> None:
    """Exactly the proven functions drop ``| None``; max_score keeps it for a NULL max()."""
    returns = {
        name: inspect.signature(function).return_annotation
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("iter_")
    }
    proven = {name: r for name, r in returns.items() if NoneType not in get_args(r)}
    assert proven == PROVEN
    assert returns["max_score"] == int | None
    assert returns["insert_item_if_new"] == int | None
    assert returns["item_exists"] == bool | None
    assert returns["top_score"] == int | None
    assert returns["series_first"] == int | None


def test_constant_selects(db: dbtx.Conn) -> None:
    """SELECTs without FROM return their one row; a scalar subquery's NULL stays None."""
    assert queries.ping(db) == 1
    assert queries.name_taken(db, name="a") is False
    queries.create_item(db, name="a", score=4)
    assert queries.name_taken(db, name="a") is True
    echoed = queries.echo_next(db, label="x")
    assert (echoed.label, echoed.two) == ("x", 2) and isinstance(echoed.at, datetime)
    assert queries.top_score(db) == 4
    assert queries.series_first(db, n=0) is None
    assert queries.ping_if(db, really=False) is None


def test_inserts_return_the_row(db: dbtx.Conn) -> None:
    item = queries.create_item(db, name="a", score=3)
    assert isinstance(item, models.Item) and item.score == 3
    assert isinstance(item.created_at, datetime)
    assert queries.create_item_id(db, name="b") == item.id + 1
    updated = queries.upsert_item(db, name="a", score=5)
    assert (updated.id, updated.score) == (item.id, 5)
    assert queries.upsert_item(db, name="c").score is None
    counter = queries.start_counter(db)
    assert isinstance(counter, models.Counter) and counter.id == 1
    assert queries.create_cell(db, row=2, col=3) == models.Cell(1, 2, 3)


def test_aggregates_over_no_rows(db: dbtx.Conn) -> None:
    """The row exists; count() is 0 and the other aggregates are None."""
    assert queries.count_items(db, min_score=0) == 0
    assert queries.count_unscored(db) == 0
    assert queries.max_score(db) is None
    assert queries.item_stats(db) == queries.ItemStatsRow(
        n=0,
        scored=0,
        total=None,
        latest=None,
        mean=None,
        all_positive=None,
        ids=None,
        names=None,
        version=1,
    )


def test_aggregates_over_rows(db: dbtx.Conn) -> None:
    first = queries.create_item(db, name="b", score=2)
    queries.create_item(db, name="a", score=4)
    queries.create_item(db, name="c")
    assert queries.count_items(db, min_score=3) == 1
    assert queries.count_unscored(db) == 1
    assert queries.max_score(db) == 4
    stats = queries.item_stats(db)
    assert (stats.n, stats.scored, stats.total, stats.mean) == (3, 2, 6, 3.0)
    assert stats.all_positive is True and stats.names == "a,b,c"
    assert stats.ids == [first.id, first.id + 1, first.id + 2]
    assert stats.latest is not None and stats.latest >= first.created_at


def test_unproven_queries_still_return_none(db: dbtx.Conn) -> None:
    """What keeps ``| None`` can indeed return no row."""
    queries.create_item(db, name="a", score=1)
    assert queries.insert_item_if_new(db, name="a") is None
    assert queries.upsert_item_if_unscored(db, name="a", score=2) is None
    assert queries.copy_item(db, new_name="x", name="nope") is None
    assert queries.rescore_item(db, score=2, name="nope") is None
    assert queries.delete_item(db, name="nope") is None
    assert queries.count_items_named(db, name="nope") is None
    assert queries.count_items_if_many(db, at_least=5) is None
    assert queries.count_items_paged(db, skip_rows=1) is None
    assert queries.ranked_count(db, name="nope") is None
    assert queries.item_exists(db, name="nope") is None
    assert queries.total_score(db) == 1


def test_skipped_insert_raises(db: dbtx.Conn) -> None:
    """A BEFORE trigger returning NULL skips the row: the impossible is reported, not None."""
    assert queries.create_guarded(db, name="ok").name == "ok"
    with pytest.raises(RuntimeError, match=r"^CreateGuarded returned no row: did a trigger"):
        queries.create_guarded(db, name="blocked")


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        db = dbtx.AsyncConn.of(conn)
        item = await queries_async.create_item(db, name="a", score=1)
        assert item.name == "a"
        assert await queries_async.create_item_id(db, name="b") == item.id + 1
        assert await queries_async.count_items(db, min_score=1) == 1
        assert (await queries_async.item_stats(db)).total == 1
        assert await queries_async.max_score(db) == 1
        assert await queries_async.ping(db) == 1
        assert await queries_async.name_taken(db, name="a") is True
        with pytest.raises(RuntimeError, match="CreateGuarded returned no row"):
            await queries_async.create_guarded(db, name="blocked")


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
