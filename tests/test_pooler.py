"""The clients through a real PgBouncer in transaction mode (Neon's pooled endpoint).

Run with ``CODEX_DB_TEST_POOLER_URL`` set to the pooler (``scripts/pgbouncer start``)
and ``DATABASE_URL`` to the server behind it; without them every test skips.
"""

from __future__ import annotations

import asyncio
import functools
import os
import pathlib
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from codex_db import (
    AsyncDatabase,
    AsyncDatabaseWs,
    Database,
    DatabaseWs,
    Pooler,
    Settings,
    Transaction,
)
from codex_db.dbtx import scalar
from codex_db.generated import content, users, users_async

pytestmark = pytest.mark.pooler

SHOW_TIMEOUT = "SELECT current_setting('statement_timeout')"
PREPARED_ERRORS = (
    psycopg.errors.DuplicatePreparedStatement,
    psycopg.errors.InvalidSqlStatementName,
    # Another client's "_pg3_2" on the shared server connection, with other parameters.
    psycopg.errors.ProtocolViolation,
)


def new_user(client: Database | Transaction, tag: str = "u") -> str:
    """Create a user through a generated function; return its id."""
    uid = f"{tag}-{uuid.uuid4().hex[:12]}"
    users.create_user(client, users.CreateUserParams(id=uid, name="Pat", email=f"{uid}@x.test"))
    return uid


@functools.cache
def supports_prepared(url: str) -> bool:
    """Whether the PgBouncer at *url* maps prepared statements (1.21+, max_prepared_statements
    > 0), read from its admin console (``SHOW CONFIG``)."""
    admin = urlunsplit(urlsplit(url)._replace(path="/pgbouncer", query=""))
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn:
        rows = conn.execute("SHOW CONFIG").fetchall()
    values = {row[0]: row[1] for row in rows}
    return int(values.get("max_prepared_statements", "0") or 0) > 0


def mode(url: str) -> str:
    """The pooler mode that fits the PgBouncer at *url*."""
    return "transaction" if supports_prepared(url) else "transaction-unprepared"


def pooler_host_alias(url: str) -> str:
    """*url* with a Neon-style ``-pooler`` host name that still reaches 127.0.0.1 (via hostaddr)."""
    parts = urlsplit(url)
    netloc = parts.netloc.replace("127.0.0.1", "ep-codex-test-pooler.invalid")
    return urlunsplit(parts._replace(netloc=netloc, query="hostaddr=127.0.0.1"))


@pytest.fixture
def pooled_url(pooled_database: Callable[[], str]) -> str:
    return pooled_database()


@pytest.fixture
def client(pooled_url: str) -> Iterator[DatabaseWs]:
    with DatabaseWs.from_url(pooled_url, pooler=mode(pooled_url), max_size=8) as ws:
        yield ws


def hammer(client: Database, threads: int = 8, per_thread: int = 30) -> list[BaseException]:
    """Create and read users from *threads* threads at once; return the errors they hit."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                uid = new_user(client, "t")
                assert users.get_user(client, id=uid) is not None
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


class TestDetection:
    def test_pooler_host_name_means_transaction_mode(
        self, pooled_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A ``-pooler`` host is Neon's pooler: transaction mode, prepared statements kept.
        A pooler that refuses them (PgBouncer 1.18) makes the client stop preparing, with
        one warning naming the setting, and no call fails (each refused one did not run)."""
        with Database.from_url(pooler_host_alias(pooled_url)) as db:
            assert db.settings is not None and db.settings.pooler is Pooler.TRANSACTION
            assert db.settings.prepare_threshold == 1
            assert hammer(db, threads=4, per_thread=10) == []
            with db.connection() as conn:
                prepared = conn.prepare_threshold
        warnings = [r for r in caplog.records if "transaction-unprepared" in r.getMessage()]
        if supports_prepared(pooled_url):
            assert prepared == 1 and warnings == []
        else:
            assert prepared is None and len(warnings) == 1

    @pytest.mark.parametrize(
        ("value", "threshold"), [("transaction", 1), ("transaction-unprepared", None)]
    )
    def test_database_pooler_variable(
        self, pooled_url: str, monkeypatch: pytest.MonkeyPatch, value: str, threshold: int | None
    ) -> None:
        """DATABASE_POOLER makes any host a transaction pooler, preparing or not."""
        monkeypatch.delenv("DB_METHOD", raising=False)
        monkeypatch.setenv("DATABASE_URL", pooled_url)
        monkeypatch.setenv("DATABASE_POOLER", value)
        with Database.from_env() as db:
            assert db.settings is not None and db.settings.prepare_threshold == threshold
            if threshold is None or supports_prepared(pooled_url):
                assert hammer(db, threads=8, per_thread=10) == []

    def test_prepared_statements_fail_behind_the_pooler(self, pooled_url: str) -> None:
        """With preparation on and no pooler declared, psycopg's statements collide on shared
        server connections of a pooler that passes names through (1.18); 1.24 maps them.

        Shown where it is certain: the pooler has ``default_pool_size`` (4, or 2) server
        connections, and each takes the first ``_pg3_0`` of only one client, so of 8
        fresh clients preparing once at least 4 fail (a pool's threads may not collide).
        """
        assert Settings.from_url(pooled_url).pooler is Pooler.NONE  # nothing to detect
        errors = []
        for _ in range(8):
            with psycopg.connect(pooled_url, autocommit=True, prepare_threshold=0) as conn:
                try:
                    conn.execute("SELECT 1", prepare=True)
                except psycopg.Error as exc:
                    errors.append(exc)
        if supports_prepared(pooled_url):
            assert errors == []
            return
        assert len(errors) >= 4 and all(isinstance(e, PREPARED_ERRORS) for e in errors), errors


class TestPreparedThroughPooler:
    """PgBouncer 1.21+ with max_prepared_statements (as Neon's pooler): skipped elsewhere."""

    @pytest.fixture(autouse=True)
    def _needs_support(self, pooled_url: str) -> None:
        if not supports_prepared(pooled_url):
            pytest.skip("this PgBouncer does not map prepared statements (1.21+ does)")

    def test_eight_threads_prepare_over_few_server_connections(self, pooled_url: str) -> None:
        """8 threads, every statement prepared at once: no collision, and the server
        connections hold PgBouncer's own prepared statements."""
        with Database.from_url(
            pooled_url, pooler="transaction", prepare_threshold=0, max_size=8
        ) as db:
            assert hammer(db, threads=8, per_thread=30) == []
            with db.as_ws().transaction() as tx:
                held = tx.fetch_one("SELECT count(*) FROM pg_prepared_statements", (), scalar)
        assert held is not None and held > 0

    def test_eviction_past_prepared_max(self, pooled_url: str) -> None:
        """More distinct statements than psycopg keeps (prepared_max=5): evicted ones are
        closed at protocol level (libpq >= 17), which PgBouncer maps; nothing fails."""

        def small_cache(conn: psycopg.Connection[Any]) -> None:
            conn.prepared_max = 5

        db = Database(
            Settings.from_url(pooled_url, pooler="transaction", prepare_threshold=0, max_size=4),
            configure=small_cache,
        )
        errors: list[BaseException] = []

        def work(offset: int) -> None:
            try:
                for round_ in range(3):
                    for k in range(20):
                        query = f"SELECT $1::int + {k + offset}"
                        assert db.fetch_one(query, (round_,), scalar) == round_ + k + offset
            except BaseException as exc:
                errors.append(exc)

        with db:
            workers = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        assert errors == []

    def test_optional_filters_are_never_prepared(self, pooled_url: str) -> None:
        """Every statement prepared at once (threshold 0), ListContent/CountContent, whose
        optional filters have no good generic plan, are sent unnamed: the server
        connections hold none of them, and the calls work through PgBouncer's mapping."""
        params = content.ListContentParams(category="none", skip_rows=0, max_rows=5)
        counted = content.CountContentParams(category="none")
        with Database.from_url(
            pooled_url, pooler="transaction", prepare_threshold=0, max_size=2
        ) as db:
            for _ in range(12):
                assert content.list_content(db, params) == []
                assert content.count_content(db, counted) == 0
            with db.as_ws().transaction() as tx:
                held = tx.fetch_one(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE $1",
                    ("%IS NULL OR%",),
                    scalar,
                )
        assert held == 0

    def test_eight_async_tasks_prepared(self, pooled_url: str) -> None:
        async def main() -> list[BaseException | None]:
            async with AsyncDatabase.from_url(
                pooled_url, pooler="transaction", prepare_threshold=0, max_size=8
            ) as db:

                async def one(n: int) -> None:
                    for _ in range(30):
                        await users_async.get_user(db, id=f"none-{n}")

                return await asyncio.gather(*(one(n) for n in range(8)), return_exceptions=True)

        assert asyncio.run(main()) == [None] * 8


class TestThroughPooler:
    def test_autocommit_calls(self, client: DatabaseWs, pooled_url: str) -> None:
        """Generated functions run in autocommit mode and commit."""
        http = client.as_http()
        uid = new_user(http)
        found = users.get_user(http, id=uid)
        assert found is not None and found.email == f"{uid}@x.test"
        assert http.fetch_one("SELECT count(*) FROM users", (), scalar) == 1

    def test_transactions_commit_roll_back_and_nest(self, client: DatabaseWs) -> None:
        """Commit, rollback on error and savepoints all work through the pooler."""
        gone: list[str] = []

        def duplicate(parent: DatabaseWs | Transaction, uid: str) -> None:
            with parent.transaction() as tx:
                gone.append(new_user(tx))
                users.create_user(tx, users.CreateUserParams(id=uid, name="x", email="d@x.test"))

        with client.transaction() as tx:
            kept = new_user(tx)
            with pytest.raises(psycopg.errors.UniqueViolation):
                duplicate(tx, kept)  # a savepoint: only its own work is undone
        with pytest.raises(psycopg.errors.UniqueViolation):
            duplicate(client, kept)
        assert users.get_user(client, id=kept) is not None
        assert [users.get_user(client, id=uid) for uid in gone] == [None, None]
        assert client.fetch_one("SELECT count(*) FROM users", (), scalar) == 1

    def test_set_local_does_not_leak_to_other_clients(self, client: DatabaseWs) -> None:
        """Per-transaction timeouts use SET LOCAL: later transactions see the default."""
        with client.transaction(statement_timeout=1.5, lock_timeout=0.5) as tx:
            assert tx.query_one(SHOW_TIMEOUT) == ("1500ms",)
            assert tx.query_one("SELECT current_setting('lock_timeout')") == ("500ms",)
        for _ in range(10):  # several server connections, none keeps it
            assert client.query_one(SHOW_TIMEOUT) == ("0",)

    def test_client_statement_timeout_uses_set_local(self, pooled_url: str) -> None:
        """A client-wide statement timeout works behind the pooler (no startup options)."""
        with DatabaseWs.from_url(pooled_url, pooler=mode(pooled_url), statement_timeout=0.2) as db:
            with db.transaction() as tx:
                assert tx.query_one(SHOW_TIMEOUT) == ("200ms",)
            with pytest.raises(psycopg.errors.QueryCanceled), db.transaction() as tx:
                tx.query("SELECT pg_sleep(2)")
            assert db.query_one("SELECT 1") == (1,)  # the connection is usable again

    def test_eight_threads(self, client: DatabaseWs) -> None:
        """8 threads share the client; the pooler's 4 server connections serve them all."""
        assert hammer(client.as_http(), threads=8, per_thread=30) == []
        assert client.fetch_one("SELECT count(*) FROM users", (), scalar) == 8 * 30

    def test_eight_async_tasks(self, pooled_url: str) -> None:
        """8 asyncio tasks share an AsyncDatabaseWs through the pooler."""

        async def work(db: AsyncDatabaseWs, n: int) -> None:
            for i in range(20):
                uid = f"a{n}-{i}-{uuid.uuid4().hex[:6]}"
                params = users.CreateUserParams(id=uid, name="A", email=f"{uid}@x.test")
                if i % 2:
                    await users_async.create_user(db, params)
                else:
                    async with db.transaction() as tx:
                        await users_async.create_user(tx, params)
                assert await users_async.get_user(db, id=uid) is not None

        async def main() -> int | None:
            async with AsyncDatabaseWs.from_url(pooled_url, pooler=mode(pooled_url)) as db:
                await asyncio.gather(*(work(db, n) for n in range(8)))
                return await db.fetch_one("SELECT count(*) FROM users", (), scalar)

        assert asyncio.run(main()) == 8 * 20

    def test_copy_and_executemany(self, client: DatabaseWs) -> None:
        """COPY (generated :copyfrom) and psycopg's executemany work through the pooler."""
        creator = new_user(client)
        rows = [
            content.ImportContentParams(
                id=uuid.uuid4(),
                creator_id=creator,
                title=f"Item {i}",
                slug=f"item-{i}",
                content_type="video",
                tags=[],
                visibility="public",
                status="draft",
                view_count=0,
                purchase_count=0,
            )
            for i in range(200)
        ]
        assert content.import_content(client, rows) == 200
        with client.transaction() as tx:
            assert content.import_content(tx, rows[:0]) == 0
        with client.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE content SET view_count = %s WHERE id = %s",
                [(i, row.id) for i, row in enumerate(rows)],
            )
        total = client.fetch_one("SELECT sum(view_count) FROM content", (), scalar)
        assert total == sum(range(200))

    def test_async_detection_and_prepared_failure(self, pooled_url: str) -> None:
        """The async client detects the pooler too; async preparation collides the same way
        on a pooler that passes statement names through.

        The collision is shown on plain psycopg connections, where it is certain: the
        pooler has ``default_pool_size`` (4) server connections, and each can take the
        first ``_pg3_0`` of only one client, so of 8 fresh clients at least 4 fail.
        """

        async def run(db: AsyncDatabase) -> list[BaseException | None]:
            async def one(n: int) -> None:
                for _ in range(20):
                    await users_async.get_user(db, id=f"none-{n}")

            return await asyncio.gather(*(one(n) for n in range(8)), return_exceptions=True)

        async def prepare_once() -> BaseException | None:
            async with await psycopg.AsyncConnection.connect(
                pooled_url, autocommit=True, prepare_threshold=0
            ) as conn:
                try:
                    await conn.execute("SELECT 1", prepare=True)
                except psycopg.Error as exc:
                    return exc
                return None

        async def main() -> tuple[list[BaseException | None], list[BaseException | None]]:
            async with AsyncDatabase.from_url(pooler_host_alias(pooled_url)) as safe:
                return await run(safe), [await prepare_once() for _ in range(8)]

        safe, unsafe = asyncio.run(main())
        assert safe == [None] * 8
        failed = [e for e in unsafe if e is not None]
        if supports_prepared(pooled_url):
            assert failed == []  # PgBouncer maps the names per server connection
            return
        assert len(failed) >= 4 and all(isinstance(e, PREPARED_ERRORS) for e in failed), unsafe


class TestPoolerRestart:
    def test_clients_recover_from_a_pgbouncer_restart(self, pooled_url: str) -> None:
        """A private PgBouncer (not the shared one) restarts under a client: the dead
        connections are found before use and replaced, and every later call succeeds."""
        parts = urlsplit(pooled_url)
        env = {
            **os.environ,
            "PGBOUNCER_PORT": "6439",
            "PGBOUNCER_DIR": tempfile.mkdtemp(prefix="codex-db-pgbouncer-restart-"),
            "PGBOUNCER_UPSTREAM": "127.0.0.1:5432",
        }
        script = pathlib.Path(__file__).parents[1] / "scripts" / "pgbouncer"
        started = subprocess.run(
            [script, "start"], env=env, check=True, capture_output=True, text=True
        )
        url = urlunsplit(parts._replace(netloc=urlsplit(started.stdout.strip()).netloc))
        try:
            with Database.from_url(url, pooler=mode(url), min_size=2, max_size=4) as db:
                assert hammer(db, threads=2, per_thread=5) == []
                subprocess.run([script, "start"], env=env, check=True, capture_output=True)
                start = time.monotonic()
                assert db.fetch_one("SELECT 1", (), scalar) == 1
                print(
                    f"\n  first call after the PgBouncer restart: {time.monotonic() - start:.3f} s"
                )
                assert hammer(db, threads=4, per_thread=5) == []
        finally:
            subprocess.run([script, "stop"], env=env, check=False)
