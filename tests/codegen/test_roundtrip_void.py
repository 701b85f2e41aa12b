"""Round trip of the void case: void results are None under every command, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.void.expected import queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "void" / "schema.sql").read_text()


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield dbtx.Conn.of(conn)


def _locks(db: dbtx.Conn) -> list[int]:
    rows = db.fetch_all(
        "SELECT objid::int8 FROM pg_locks WHERE locktype = 'advisory'"
        " AND pid = pg_backend_pid() ORDER BY objid",
        (),
        dbtx.scalar,
    )
    return [int(r) for r in rows]


def test_void_under_every_command(db: dbtx.Conn) -> None:
    """Each command runs the statement; void values come back as None, never ''."""
    queries.add_job(db, id=1, name="a")
    queries.add_job(db, id=2, name="b")
    queries.lock(db, key=7)  # -> None: mypy refuses to use its value
    assert _locks(db) == [7]
    assert queries.lock_each(db) == [None, None]
    assert list(queries.iter_lock_each(db)) == [None, None]
    queries.lock_exec(db, key=8)
    assert queries.lock_rows(db) == 2
    assert queries.lock_result(db, key=9).rowcount == 1
    assert queries.lock_job(db, id=2) == queries.LockJobRow(2, "b", None)
    assert queries.lock_job(db, id=3) is None
    assert queries.lock_jobs(db) == [queries.LockJobsRow(1, None), queries.LockJobsRow(2, None)]
    assert _locks(db) == [1, 2, 7, 8, 9]
    queries.unlock_all(db)
    assert _locks(db) == []


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        db = dbtx.AsyncConn.of(conn)
        await queries_async.add_job(db, id=1, name="a")
        await queries_async.lock(db, key=7)
        assert await queries_async.lock_each(db) == [None]
        assert [row async for row in queries_async.iter_lock_each(db)] == [None]
        await queries_async.lock_exec(db, key=8)
        assert await queries_async.lock_rows(db) == 1
        assert (await queries_async.lock_result(db, key=9)).rowcount == 1
        assert await queries_async.lock_job(db, id=1) == queries.LockJobRow(1, "a", None)
        assert await queries_async.lock_jobs(db) == [queries.LockJobsRow(1, None)]
        await queries_async.unlock_all(db)


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
