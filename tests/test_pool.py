"""Connection parking in the pool engines: reuse, hand-over to waiters, expiry, close."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from codex_db import AsyncDatabase, Database, DatabaseWs, PoolOptions
from codex_db._pool import PoolEngine
from codex_db.dbtx import scalar

PID = "SELECT pg_backend_pid()"
SLEEP = "SELECT 1 FROM pg_sleep($1::float8)"


def app_name() -> str:
    return f"codex-pool-test-{uuid.uuid4().hex[:8]}"


def backends(url: str, application_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def requests(db: Database) -> int:
    """How many times the pool itself handed out a connection."""
    engine = db._engine
    assert isinstance(engine, PoolEngine)
    return engine.stats().get("requests_num", 0)


class TestParking:
    def test_serial_calls_reuse_one_connection_without_the_pool(self, migrated_url: str) -> None:
        """A run of calls stays on one backend and asks the pool once."""
        with Database.from_url(migrated_url) as db:
            pids = {db.fetch_one(PID, (), scalar) for _ in range(50)}
            assert len(pids) == 1
            assert requests(db) == 1

    def test_check_idle_after_zero_turns_parking_off(self, migrated_url: str) -> None:
        """With check_idle_after=0 every call goes through the pool (and its check)."""
        options = PoolOptions(check_idle_after=0)
        with Database.from_url(migrated_url, pool_options=options) as db:
            for _ in range(20):
                db.fetch_one(PID, (), scalar)
            assert requests(db) == 20

    def test_a_parked_connection_goes_back_through_the_pool_when_due(
        self, migrated_url: str
    ) -> None:
        """A connection parked longer than the park time is returned and checked out anew."""
        options = PoolOptions(check_idle_after=0.05)
        with Database.from_url(migrated_url, pool_options=options) as db:
            db.fetch_one(PID, (), scalar)
            db.fetch_one(PID, (), scalar)
            before = requests(db)
            time.sleep(0.1)
            db.fetch_one(PID, (), scalar)
            assert requests(db) == before + 1

    def test_close_closes_parked_connections(self, migrated_url: str) -> None:
        """After close() no connection of the client is left on the server; it reopens on use."""
        name = app_name()
        db = Database.from_url(migrated_url, application_name=name, min_size=2, max_size=4)
        run_concurrently(db, workers=4, calls=20)
        assert backends(migrated_url, name) >= 1
        db.close()
        # A backend leaves pg_stat_activity a moment after its client hung up.
        deadline = time.monotonic() + 5
        while backends(migrated_url, name) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backends(migrated_url, name) == 0
        assert db.fetch_one(PID, (), scalar) is not None
        db.close()

    def test_a_connection_left_in_a_transaction_is_not_parked(self, migrated_url: str) -> None:
        """A connection left busy (an abandoned stream) goes back to the pool, which resets it."""
        with Database.from_url(migrated_url, max_size=1) as db:
            rows = db.stream("SELECT generate_series(1, 10000)", (), scalar)
            assert next(rows) == 1
            rows.close()
            assert db.fetch_one("SELECT 42", (), scalar) == 42


class TestWaiters:
    def test_a_waiting_caller_gets_the_released_connection(self, migrated_url: str) -> None:
        """With one connection, a caller queued in the pool is handed it, not left to time out."""
        with Database.from_url(migrated_url, max_size=1, pool_timeout=3) as db:
            db.fetch_one(PID, (), scalar)  # the connection is now parked
            results: list[object] = []

            def second() -> None:
                results.append(db.fetch_one("SELECT 2", (), scalar))

            started = threading.Event()

            def first() -> None:
                started.set()
                results.append(db.fetch_one(SLEEP, (0.3,), scalar))

            a = threading.Thread(target=first)
            a.start()
            started.wait()
            time.sleep(0.05)  # let `first` take the parked connection
            b = threading.Thread(target=second)
            b.start()
            a.join()
            b.join()
            assert sorted(results) == [1, 2]  # type: ignore[type-var]

    @pytest.mark.parametrize(("min_size", "max_size"), [(1, 1), (2, 2), (1, 3)])
    def test_more_threads_than_connections_all_finish(
        self, migrated_url: str, min_size: int, max_size: int
    ) -> None:
        """8 threads on a smaller pool: every call succeeds within the pool timeout."""
        with Database.from_url(
            migrated_url, min_size=min_size, max_size=max_size, pool_timeout=10
        ) as db:
            assert run_concurrently(db, workers=8, calls=150) == 8 * 150

    def test_transactions_share_parked_connections(self, migrated_url: str) -> None:
        """db_ws transaction blocks park their connection too, and still commit or roll back."""
        with DatabaseWs.from_url(migrated_url, max_size=2, pool_timeout=10) as db:
            errors: list[BaseException] = []

            def work() -> None:
                try:
                    for _ in range(100):
                        with db.transaction() as tx:
                            assert tx.fetch_one("SELECT 1", (), scalar) == 1
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=work) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []

    def test_async_tasks_on_a_small_pool_all_finish(self, migrated_url: str) -> None:
        """The async engine: 8 tasks sharing 2 connections all finish."""

        async def main() -> int:
            async with AsyncDatabase.from_url(migrated_url, max_size=2, pool_timeout=10) as db:

                async def worker() -> int:
                    done = 0
                    for _ in range(100):
                        if await db.fetch_one("SELECT 1", (), scalar) == 1:
                            done += 1
                    return done

                return sum(await asyncio.gather(*(worker() for _ in range(8))))

        assert asyncio.run(main()) == 800


def run_concurrently(db: Database, *, workers: int, calls: int) -> int:
    """*workers* threads making *calls* calls each; the number that returned 1."""
    done: list[int] = []
    errors: list[BaseException] = []

    def work(call: Callable[[], object]) -> None:
        count = 0
        try:
            for _ in range(calls):
                if call() == 1:
                    count += 1
        except BaseException as exc:
            errors.append(exc)
        done.append(count)

    threads = [
        threading.Thread(target=work, args=(lambda: db.fetch_one("SELECT 1", (), scalar),))
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return sum(done)
