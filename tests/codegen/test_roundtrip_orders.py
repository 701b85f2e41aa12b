"""Round trip of the orders case: each whitelisted order sorts as declared, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.orders.expected import queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "orders" / "schema.sql").read_text()
ROWS = [
    (1, "banana", 5, datetime(2026, 1, 2, tzinfo=UTC)),
    (2, "Apple", 9, None),
    (3, "cherry", 1, datetime(2026, 1, 3, tzinfo=UTC)),
    (4, "date", 7, datetime(2026, 1, 1, tzinfo=UTC)),
]
EXPECTED = {
    queries.ListPostsOrder.NEWEST: [3, 1, 4, 2],
    queries.ListPostsOrder.OLDEST: [4, 1, 3, 2],
    queries.ListPostsOrder.TITLE: [2, 1, 3, 4],
    queries.ListPostsOrder.MOST_VIEWED: [2, 4, 1, 3],
}


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    url = fresh_database(SCHEMA)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.cursor().executemany("INSERT INTO posts VALUES (%s, %s, %s, %s)", ROWS)
    return url


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield dbtx.Conn.of(conn)


@pytest.mark.parametrize("order", list(queries.ListPostsOrder))
def test_each_order_sorts_as_declared(db: dbtx.Conn, order: queries.ListPostsOrder) -> None:
    """Every member runs its own SQL text; the default is the query's own ORDER BY."""
    rows = queries.list_posts(db, min_views=0, max_rows=10, order=order)
    assert [r.id for r in rows] == EXPECTED[order]
    streamed = queries.iter_list_posts(db, min_views=0, max_rows=10, order=order)
    assert [r.id for r in streamed] == EXPECTED[order]


def test_defaults_and_params_struct(db: dbtx.Conn) -> None:
    """Without ``order`` the query's written ORDER BY applies; params Structs take it too."""
    assert [r.id for r in queries.list_posts(db, min_views=5, max_rows=2)] == [1, 4]
    assert queries.first_post(db) == queries.FirstPostRow(4, "date")
    assert queries.first_post(db, order=queries.FirstPostOrder.OLDEST) == queries.FirstPostRow(
        1, "banana"
    )
    params = queries.SearchPostsParams(pattern="%a%", low=0, high=100)
    assert queries.search_posts(db, params) == [2, 1, 4]
    most_viewed = queries.SearchPostsOrder.MOST_VIEWED
    assert queries.search_posts(db, params, order=most_viewed) == [2, 4, 1]


def test_no_caller_string_reaches_sql(db: dbtx.Conn) -> None:
    """A member's value works; any other string is refused before a query is sent."""
    assert [r.id for r in queries.list_posts(db, min_views=0, max_rows=9, order=cast(Any, "title"))]
    for bad in ("title; DROP TABLE posts", "id DESC", "TITLE", ""):
        with pytest.raises(ValueError, match="is not a valid ListPostsOrder"):
            queries.list_posts(db, min_views=0, max_rows=9, order=cast(Any, bad))
    assert len(queries.list_posts(db, min_views=0, max_rows=9)) == 4


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        db = dbtx.AsyncConn.of(conn)
        for order, ids in EXPECTED.items():
            rows = await queries_async.list_posts(db, min_views=0, max_rows=10, order=order)
            assert [r.id for r in rows] == ids
            streamed = queries_async.iter_list_posts(db, min_views=0, max_rows=10, order=order)
            assert [r.id async for r in streamed] == ids
        assert await queries_async.first_post(db) == queries.FirstPostRow(4, "date")
        with pytest.raises(ValueError, match="is not a valid"):
            await queries_async.first_post(db, order=cast(Any, "id"))


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
