"""The async clients (``adb_http``/``adb_ws``) on a real database: the sync ones' semantics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg.rows import dict_row

import codex_db
from codex_db import (
    AsyncDatabase,
    AsyncDatabaseWs,
    AsyncTransaction,
    DatabaseConnectionError,
    IsolationLevel,
    PoolExhaustedError,
    Rollback,
    TransactionNotSupportedError,
    sql,
)
from codex_db.dbtx import AsyncDBTX, scalar
from codex_db.generated import users, users_async

T = TypeVar("T")

# Both async clients and a transaction satisfy the async generated code's protocol (mypy).
_http: AsyncDBTX = codex_db.adb_http
_ws: AsyncDBTX = codex_db.adb_ws


def _tx_is_async_dbtx(tx: AsyncTransaction) -> AsyncDBTX:
    return tx


def run(url: str, body: Callable[[AsyncDatabaseWs], Coroutine[Any, Any, T]], **options: Any) -> T:
    """Run ``body(client)`` in a new event loop with an `AsyncDatabaseWs` on *url*, closed after."""

    async def main() -> T:
        async with AsyncDatabaseWs.from_url(url, **options) as client:
            return await body(client)

    return asyncio.run(main())


async def create(db: AsyncDBTX, uid: str | None = None) -> str:
    uid = uid or f"u-{uuid.uuid4().hex[:10]}"
    await users_async.create_user(
        db, users.CreateUserParams(id=uid, name="Ann", email=f"{uid}@x.test")
    )
    return uid


def committed(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM users ORDER BY id")]


class TestAutocommit:
    def test_calls_commit_and_read(self, url: str) -> None:
        """Generated async functions run on the autocommit client and commit."""

        async def body(db: AsyncDatabaseWs) -> str:
            uid = await create(db.as_http(), "a1")
            found = await users_async.get_user(db.as_http(), id=uid)
            assert found is not None and found.name == "Ann"
            return uid

        assert run(url, body) == "a1"
        assert committed(url) == ["a1"]

    def test_transaction_is_not_supported(self) -> None:
        """adb_http.transaction() raises, pointing at db_ws.transaction() and batch()."""
        with pytest.raises(TransactionNotSupportedError, match=r"db_ws\.transaction\(\)"):
            codex_db.adb_http.transaction()

    def test_stream_fetch_all_execute_result_copy(self, url: str) -> None:
        """Every AsyncDBTX method works on the autocommit client."""

        async def body(db: AsyncDatabaseWs) -> None:
            rows = [(f"c{i}", "Copy", f"c{i}@x.test") for i in range(3)]
            assert await db.copy_rows("COPY users (id, name, email) FROM STDIN", rows) == 3
            query = "SELECT id FROM users WHERE id <> $1 ORDER BY id"
            assert await db.fetch_all(query, ("c1",), scalar) == ["c0", "c2"]
            assert [r async for r in db.stream(query, ("c0",), scalar)] == ["c1", "c2"]
            result = await db.execute_result("UPDATE users SET name = $1", ("Bob",))
            assert (result.rowcount, result.status) == (3, "UPDATE 3")
            assert await db.execute("DELETE FROM users WHERE id = $1", ("c0",)) == 1

        run(url, body)

    def test_ad_hoc_statements(self, url: str) -> None:
        """query/query_one/run take psycopg.sql compositions, %s parameters and row factories."""

        async def body(db: AsyncDatabaseWs) -> None:
            table = sql.Identifier("users")
            insert = sql.SQL("INSERT INTO {} (id, name, email) VALUES (%s, %s, %s)").format(table)
            assert await db.run(insert, ("a1", "Ann", "ann@x.test")) == 1
            rows = await db.query("SELECT id, name FROM users", row_factory=dict_row)
            assert rows == [{"id": "a1", "name": "Ann"}]
            assert await db.query_one("SELECT id FROM users WHERE id = %s", ("no",)) is None

        run(url, body)

    def test_eight_tasks(self, url: str) -> None:
        """8 tasks share one client (pool of 4): every write lands."""

        async def body(db: AsyncDatabaseWs) -> None:
            async def work(n: int) -> None:
                for i in range(20):
                    uid = await create(db, f"t{n}-{i}")
                    assert await users_async.get_user(db, id=uid) is not None

            await asyncio.gather(*(work(n) for n in range(8)))

        run(url, body, max_size=4)
        assert len(committed(url)) == 160


class TestTransactions:
    def test_commit_rollback_savepoint(self, url: str) -> None:
        """Commit on success, rollback on error, a failed savepoint keeps the outer work."""

        async def fail_in(parent: AsyncDatabaseWs | AsyncTransaction, uid: str) -> None:
            async with parent.transaction() as tx:
                await create(tx)
                await create(tx, uid)  # duplicate

        async def body(db: AsyncDatabaseWs) -> None:
            async with db.transaction() as tx:
                await create(tx, "kept")
                assert committed(url) == []
                with pytest.raises(psycopg.errors.UniqueViolation):
                    await fail_in(tx, "kept")
            with pytest.raises(psycopg.errors.UniqueViolation):
                await fail_in(db, "kept")

        run(url, body)
        assert committed(url) == ["kept"]

    def test_rollback_exception(self, url: str) -> None:
        """raise Rollback() leaves a block quietly; Rollback(tx) undoes an outer one."""

        async def body(db: AsyncDatabaseWs) -> None:
            async with db.transaction() as tx:
                await create(tx, "kept")
                async with tx.transaction() as sp:
                    await create(sp, "undone")
                    raise Rollback()
            async with db.transaction() as tx:
                await create(tx, "gone")
                async with tx.transaction():
                    raise Rollback(tx)

        run(url, body)
        assert committed(url) == ["kept"]

    def test_options_and_timeouts_do_not_stick(self, url: str) -> None:
        """BEGIN options and SET LOCAL timeouts end with the block."""
        show = (
            "SELECT current_setting('transaction_isolation'),"
            " current_setting('transaction_read_only'),"
            " current_setting('statement_timeout'), current_setting('lock_timeout'),"
            " current_setting('idle_in_transaction_session_timeout')"
        )

        async def body(db: AsyncDatabaseWs) -> None:
            async with db.transaction(
                isolation_level=IsolationLevel.SERIALIZABLE,
                read_only=True,
                statement_timeout=2,
                lock_timeout=0.25,
                idle_in_transaction_session_timeout=10,
            ) as tx:
                assert await tx.query_one(show) == ("serializable", "on", "2s", "250ms", "10s")
            async with db.transaction() as tx:
                assert await tx.query_one(show) == ("read committed", "off", "0", "0", "0")

        run(url, body, max_size=1)

    def test_statement_timeout_raises_and_connection_is_reused(self, url: str) -> None:
        """A timed-out statement raises QueryCanceled; its connection serves the next call."""

        async def body(db: AsyncDatabaseWs) -> int | None:
            with pytest.raises(psycopg.errors.QueryCanceled):
                async with db.transaction(statement_timeout=0.1) as tx:
                    await tx.query("SELECT pg_sleep(5)")
            return await db.fetch_one("SELECT pg_backend_pid()", (), scalar)

        async def twice(db: AsyncDatabaseWs) -> None:
            pid = await body(db)
            assert await body(db) == pid  # pool of one: the same, healthy connection

        run(url, twice, max_size=1)

    def test_client_statement_timeout(self, url: str) -> None:
        """statement_timeout= on the client applies to autocommit calls and transactions."""

        async def body(db: AsyncDatabaseWs) -> None:
            assert await db.query_one("SHOW statement_timeout") == ("150ms",)
            with pytest.raises(psycopg.errors.QueryCanceled):
                await db.query("SELECT pg_sleep(3)")
            async with db.transaction(statement_timeout=5) as tx:
                assert await tx.query_one("SHOW statement_timeout") == ("5s",)

        run(url, body, statement_timeout=0.15)

    def test_tx_unusable_after_block(self, url: str) -> None:
        """A tx kept after its block refuses to run."""

        async def body(db: AsyncDatabaseWs) -> None:
            async with db.transaction() as tx:
                pass
            with pytest.raises(psycopg.ProgrammingError, match="transaction block has ended"):
                await users_async.get_user(tx, id="x")

        run(url, body)


class TestPool:
    def test_exhausted_pool_says_how(self, url: str) -> None:
        """A call waiting longer than pool_timeout gets PoolExhaustedError with the numbers."""

        async def body(db: AsyncDatabaseWs) -> None:
            async with db.connection():
                with pytest.raises(PoolExhaustedError, match="1 of max_size=1 in use"):
                    await db.fetch_one("SELECT 1", (), scalar)
            assert await db.fetch_one("SELECT 1", (), scalar) == 1

        run(url, body, max_size=1, pool_timeout=0.2)

    def test_unreachable_server_names_the_fix(self) -> None:
        """A bad target fails at the first call with the redacted URL and the variable to check."""
        bad = "postgresql://app:hunter2@127.0.0.1:1/codex"

        async def main() -> None:
            async with AsyncDatabase.from_url(bad, pool_timeout=0.5) as db:
                with pytest.raises(DatabaseConnectionError, match="cannot connect") as info:
                    await db.fetch_one("SELECT 1", (), scalar)
                assert "hunter2" not in str(info.value)
                with pytest.raises(DatabaseConnectionError, match=r"app:\*\*\*@"):
                    await codex_db.test_adb_connection(db)

        asyncio.run(main())

    def test_default_clients_follow_the_environment(
        self, url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """adb_http/adb_ws read DATABASE_URL on first use; close_adb_pool() ends the loop's pool."""
        monkeypatch.delenv("DB_METHOD", raising=False)
        monkeypatch.setenv("DATABASE_URL", url)

        async def main() -> None:
            try:
                async with codex_db.adb_ws.transaction() as tx:
                    await create(tx, "env")
                assert await codex_db.test_adb_connection() is True
                assert await users_async.get_user(codex_db.adb, id="env") is not None
            finally:
                await codex_db.close_adb_pool()

        asyncio.run(main())
        assert committed(url) == ["env"]

    def test_pool_of_another_loop_is_refused_with_the_fix(self, url: str) -> None:
        """Using a client whose pool belongs to a finished event loop names the fix."""
        db = AsyncDatabase.from_url(url)

        async def use() -> int | None:
            return await db.fetch_one("SELECT 1", (), scalar)

        async def close() -> None:
            await db.close()

        async def first() -> None:
            assert await use() == 1

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(first())
            with pytest.raises(RuntimeError, match=r"await codex_db\.close_adb_pool\(\)"):
                asyncio.run(use())
        finally:
            loop.run_until_complete(close())
            loop.close()

        async def use_then_close() -> int | None:
            try:
                return await use()  # closed: this loop opens a new pool
            finally:
                await close()  # an open pool would keep asyncio.run() from returning

        assert asyncio.run(use_then_close()) == 1
