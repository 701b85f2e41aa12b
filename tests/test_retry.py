"""Retries: whole transactions on 40001/40P01, autocommit reads once on a lost connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from codex_db import AsyncDatabaseWs, Database, DatabaseWs, IsolationLevel, PoolOptions, Transaction
from codex_db.dbtx import scalar
from codex_db.retry import RetryPolicy, is_transient_conflict

FAIL_40001 = "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$"
COUNTERS = "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL);"
SERIALIZABLE = IsolationLevel.SERIALIZABLE


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(COUNTERS + "INSERT INTO counters VALUES (1, 0), (2, 0);")


@pytest.fixture
def db(url: str) -> Iterator[DatabaseWs]:
    with DatabaseWs.from_url(url, max_size=4) as client:
        yield client


def in_threads(*targets: Callable[[], None]) -> list[BaseException]:
    """Run *targets* in threads at once; return what they raised."""
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def kill_backend(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until it is gone


class TestRunTransaction:
    def test_serializable_conflict_converges(self, db: DatabaseWs) -> None:
        """Two SERIALIZABLE read-modify-writes of one row collide; the loser re-runs: n == 2."""
        both_read = threading.Barrier(2)
        calls: list[int] = []

        def increment(tx: Transaction) -> None:
            n = tx.fetch_one("SELECT n FROM counters WHERE id = 1", (), scalar)
            calls.append(1)
            if len(calls) <= 2:  # the first attempts read the same snapshot
                both_read.wait(timeout=10)
            tx.execute("UPDATE counters SET n = $1 WHERE id = 1", ((n or 0) + 1,))

        def work() -> None:
            db.run_transaction(increment, isolation_level=SERIALIZABLE)

        assert in_threads(work, work) == []
        assert db.fetch_one("SELECT n FROM counters WHERE id = 1", (), scalar) == 2
        assert len(calls) == 3  # one conflict, one retry

    def test_deadlock_is_retried(self, db: DatabaseWs) -> None:
        """Rows locked in opposite orders deadlock (40P01); the victim re-runs and both apply."""
        both_locked = threading.Barrier(2)
        attempts: list[int] = []

        def cross(first: int, second: int) -> Callable[[], None]:
            def work(tx: Transaction) -> None:
                attempts.append(first)
                tx.execute("UPDATE counters SET n = n + 1 WHERE id = $1", (first,))
                if len(attempts) <= 2:
                    both_locked.wait(timeout=10)
                tx.execute("UPDATE counters SET n = n + 1 WHERE id = $1", (second,))

            return lambda: db.run_transaction(work)

        assert in_threads(cross(1, 2), cross(2, 1)) == []
        assert db.fetch_all("SELECT n FROM counters ORDER BY id", (), scalar) == [2, 2]
        assert len(attempts) == 3

    def test_gives_up_after_the_attempts(self, db: DatabaseWs) -> None:
        """A conflict on every attempt raises the last error after *attempts* runs."""
        calls: list[int] = []

        def always_conflicts(tx: Transaction) -> None:
            calls.append(1)
            tx.run(FAIL_40001)

        policy = RetryPolicy(attempts=3, base_delay=0.001)
        with pytest.raises(psycopg.errors.SerializationFailure):
            db.run_transaction(always_conflicts, retry=policy)
        assert len(calls) == 3

    def test_other_errors_are_not_retried(self, db: DatabaseWs) -> None:
        """A constraint violation is the caller's to handle: one attempt, rolled back."""
        calls: list[int] = []

        def duplicate(tx: Transaction) -> None:
            calls.append(1)
            tx.execute("UPDATE counters SET n = 5 WHERE id = 1", ())
            tx.execute("INSERT INTO counters VALUES (1, 0)", ())

        with pytest.raises(psycopg.errors.UniqueViolation):
            db.run_transaction(duplicate)
        assert calls == [1]
        assert db.fetch_one("SELECT n FROM counters WHERE id = 1", (), scalar) == 0

    def test_returns_the_result(self, db: DatabaseWs) -> None:
        """run_transaction returns what the work returns."""
        assert db.run_transaction(lambda tx: tx.fetch_one("SELECT 41 + 1", (), scalar)) == 42

    def test_async_twin_retries(self, url: str) -> None:
        """AsyncDatabaseWs.run_transaction re-runs a conflicting transaction the same way."""
        calls: list[int] = []

        async def conflict_twice() -> str:
            async with AsyncDatabaseWs.from_url(url) as client:

                async def work(tx: object) -> str:
                    calls.append(1)
                    if len(calls) < 3:
                        await client.run(FAIL_40001)
                    return "done"

                return await client.run_transaction(work, attempts=3)

        assert asyncio.run(conflict_twice()) == "done"
        assert len(calls) == 3


class TestDeadConnections:
    """A pooled connection whose backend is gone is replaced before anything is sent on it
    (lost replies, where a statement may have run, are in tests/test_faults_network.py)."""

    def test_read_on_a_killed_connection_gets_a_new_one(self, url: str) -> None:
        with Database.from_url(url, max_size=1) as db:
            pid = db.fetch_one("SELECT pg_backend_pid()", (), scalar)
            assert pid is not None
            kill_backend(url, pid)
            assert db.fetch_one("SELECT pg_backend_pid()", (), scalar) not in (None, pid)

    def test_write_on_a_killed_connection_runs_once(self, url: str) -> None:
        with Database.from_url(url, max_size=1) as db:
            pid = db.fetch_one("SELECT pg_backend_pid()", (), scalar)
            assert pid is not None
            kill_backend(url, pid)
            assert db.execute("UPDATE counters SET n = n + 1 WHERE id = 1", ()) == 1
            assert db.fetch_one("SELECT n FROM counters WHERE id = 1", (), scalar) == 1

    def test_checkout_check_replaces_a_dead_idle_connection(self, url: str) -> None:
        """With check_idle_after=0 a dead pooled connection is replaced before the write runs."""
        options = PoolOptions(check_idle_after=0)
        with Database.from_url(url, max_size=1, pool_options=options) as db:
            pid = db.fetch_one("SELECT pg_backend_pid()", (), scalar)
            assert pid is not None
            kill_backend(url, pid)
            assert db.execute("UPDATE counters SET n = n + 1 WHERE id = 1", ()) == 1


class TestPolicy:
    def test_backoff_is_bounded_and_jittered(self) -> None:
        """Delays grow exponentially up to max_delay, each a random fraction of its ceiling."""
        policy = RetryPolicy(attempts=10, base_delay=0.01, max_delay=0.05)
        delays = [policy.delay(n) for n in range(1, 10) for _ in range(20)]
        assert all(0 <= d <= 0.05 for d in delays)
        assert len(set(delays)) > 100
        assert all(policy.delay(1) <= 0.01 for _ in range(50))

    def test_attempts_must_be_positive(self) -> None:
        """attempts=0 is refused with the rule."""
        with pytest.raises(ValueError, match="at least 1"):
            RetryPolicy(attempts=0)

    def test_conflicts_are_found_inside_wrapping_errors(self) -> None:
        """A 40001 wrapped in an application error still counts; other errors do not."""
        wrapped = RuntimeError("wrapped")
        wrapped.__cause__ = psycopg.errors.SerializationFailure("x")
        assert is_transient_conflict(wrapped)
        assert is_transient_conflict(psycopg.errors.DeadlockDetected("x"))
        assert not is_transient_conflict(psycopg.errors.UniqueViolation("x"))
        assert not is_transient_conflict(RuntimeError("x"))
