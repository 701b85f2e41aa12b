"""`fetch_all` holds off the cyclic collector while it builds rows, and always restores it."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from codex_db import AsyncDatabase, Database
from codex_db._conn import Conn
from codex_db._gc import no_gc
from codex_db.dbtx import scalar

SERIES = "SELECT generate_series(1, $1::int)"


@pytest.fixture(autouse=True)
def gc_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_no_collection_runs_while_rows_are_built(conn: psycopg.Connection[Any]) -> None:
    """Building 5,000 rows (15,000 containers) starts no collector pass; one runs afterwards."""
    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    def make(n: int) -> list[int]:
        return [n]

    gc.callbacks.append(count)
    try:
        rows = Conn.of(conn).fetch_all(SERIES, (5000,), make)
        during = len(passes)
        garbage = [[i] for i in range(5000)]
    finally:
        gc.callbacks.remove(count)
    assert len(rows) == 5000 and len(garbage) == 5000
    assert during == 0
    assert passes, "the collector should run again once the rows are built"
    assert gc.isenabled()


def test_the_collector_resumes_when_building_a_row_fails(conn: psycopg.Connection[Any]) -> None:
    """An exception from the row constructor leaves the collector enabled."""

    def broken(n: int) -> int:
        raise ValueError(f"bad row {n}")

    with pytest.raises(ValueError, match="bad row 1"):
        Conn.of(conn).fetch_all(SERIES, (10,), broken)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(conn: psycopg.Connection[Any]) -> None:
    """An application that turned the collector off finds it off afterwards."""
    gc.disable()
    assert Conn.of(conn).fetch_all(SERIES, (3,), scalar) == [1, 2, 3]
    assert not gc.isenabled()


def test_nested_pauses_resume_once() -> None:
    """Only the outermost pause turns the collector back on."""
    with no_gc:
        with no_gc:
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_threads_and_tasks_leave_the_collector_enabled(migrated_url: str) -> None:
    """Concurrent fetches from 6 threads and 6 tasks end with the collector on."""
    errors: list[BaseException] = []
    with Database.from_url(migrated_url, max_size=6) as db:

        def work() -> None:
            try:
                for _ in range(30):
                    assert len(db.fetch_all(SERIES, (500,), scalar)) == 500
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert gc.isenabled()

    async def tasks() -> None:
        async with AsyncDatabase.from_url(migrated_url, max_size=3) as adb:

            async def one() -> None:
                for _ in range(30):
                    assert len(await adb.fetch_all(SERIES, (500,), scalar)) == 500

            await asyncio.gather(*(one() for _ in range(6)))

    asyncio.run(tasks())
    assert gc.isenabled()
