"""`KeepReaderConnection` on a real server, on asyncio and uvloop: it keeps the socket's
reader registered between queries and behaves like psycopg's `AsyncConnection` otherwise.

"No reader left" checks ask the loop itself (``remove_reader(fd)`` is false when nothing
was registered), because a closed socket left in the selector breaks the next socket
that reuses its number.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import selectors
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, LiteralString, TypeVar

import psycopg
import pytest
from psycopg import errors as e
from psycopg import pq, sql

import codex_db._pool_async as pool_async
from codex_db import AsyncDatabase, ConfigError
from codex_db._deadline import DeadlineAsyncConnection
from codex_db._wait_async import (
    WAIT_VARIABLE,
    KeepReaderConnection,
    async_connection_class,
    verified_psycopg,
)
from codex_db.dbtx import AsyncConn, scalar
from tests._proxy import FaultyProxy

T = TypeVar("T")

#: Generous bound on waits that must end; hitting it is a failure (a hang), not a timing check.
HANG = 10.0


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    return str(request.param)


def run(loop_kind: str, main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` in a new event loop of *loop_kind*."""

    async def body() -> T:
        # A hang is a failure, not a stuck suite (e.g. a write wait never handed to psycopg).
        return await asyncio.wait_for(main(), 6 * HANG)

    if loop_kind == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(body())
    return asyncio.run(body())


@pytest.fixture
def admin(migrated_url: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """A sync autocommit connection to terminate backends and send notifications with."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        yield conn


async def connect(url: str) -> KeepReaderConnection[tuple[Any, ...]]:
    return await KeepReaderConnection.connect(url, autocommit=True, prepare_threshold=1)


async def one(
    conn: psycopg.AsyncConnection[Any], query: LiteralString, params: tuple[Any, ...] = ()
) -> Any:
    return await AsyncConn.of(conn).fetch_one(query, params, scalar)


def watched(loop: asyncio.AbstractEventLoop, fd: int) -> bool | None:
    """Whether *loop* watches *fd* for reading, without changing it (asyncio), or None (uvloop)."""
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return None
    key = selector.get_map().get(fd)
    return key is not None and bool(key.events & selectors.EVENT_READ)


def unwatched(fd: int) -> bool:
    """True when the running loop has no reader for *fd* (the check removes one it finds)."""
    return not asyncio.get_running_loop().remove_reader(fd)


async def outcome(task: asyncio.Task[T]) -> T:
    """The result of *task*, which must end by itself: fails after `HANG` seconds, without
    cancelling it first (a cancellation would end it with an error of its own)."""
    done, _ = await asyncio.wait({task}, timeout=HANG)
    if task not in done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pytest.fail(f"still waiting after {HANG} s")
    return task.result()


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until *condition* holds (fails after `HANG` seconds)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG)


def kill(admin: psycopg.Connection[Any], conn: psycopg.AsyncConnection[Any]) -> None:
    admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))


def running(conn: psycopg.AsyncConnection[Any]) -> Callable[[], bool]:
    """Whether *conn* has a query in progress, as a condition for `until`."""
    return lambda: conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    """Whether *check* becomes true within *seconds* (polled every 50 ms)."""
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _backend_gone(admin: psycopg.Connection[Any], pid: int) -> bool:
    row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row == (0,)


def reusable(conn: psycopg.AsyncConnection[Any]) -> bool:
    return conn.pgconn.transaction_status == pq.TransactionStatus.IDLE


class TestChoice:
    """`async_connection_class`: which class the async pools use."""

    def test_default_on_a_verified_psycopg(self) -> None:
        """Unset, on psycopg 3.3, the pools use `KeepReaderConnection`."""
        assert async_connection_class({}, "3.3.9") is KeepReaderConnection
        assert (
            async_connection_class({WAIT_VARIABLE: "keep-reader"}, "3.3.0") is KeepReaderConnection
        )
        assert async_connection_class({WAIT_VARIABLE: ""}, "3.3.12") is KeepReaderConnection

    def test_turned_off(self) -> None:
        """``CODEX_DB_ASYNC_WAIT=psycopg`` selects psycopg's own class."""
        assert (
            async_connection_class({WAIT_VARIABLE: "psycopg"}, "3.3.9") is DeadlineAsyncConnection
        )
        assert (
            async_connection_class({WAIT_VARIABLE: " PSYCOPG "}, "3.3.9") is DeadlineAsyncConnection
        )

    def test_turned_off_through_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The default reads the process environment when called."""
        monkeypatch.setenv(WAIT_VARIABLE, "psycopg")
        assert async_connection_class() is DeadlineAsyncConnection
        monkeypatch.delenv(WAIT_VARIABLE)
        assert async_connection_class(version="3.3.9") is KeepReaderConnection

    @pytest.mark.parametrize("version", ["3.2.13", "3.4.0", "3.4.0.dev1", "4.0", "3", "dev"])
    def test_unverified_psycopg_falls_back(self, version: str) -> None:
        """Outside 3.3.x the pools use psycopg's class, whatever the variable says."""
        assert async_connection_class({}, version) is DeadlineAsyncConnection
        assert not verified_psycopg(version)

    def test_installed_version_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without a version argument, ``psycopg.__version__`` decides."""
        monkeypatch.setattr(psycopg, "__version__", "3.4.1")
        assert async_connection_class({}) is DeadlineAsyncConnection
        monkeypatch.setattr(psycopg, "__version__", "3.3.1")
        expected = KeepReaderConnection if verified_psycopg("3.3.1") else DeadlineAsyncConnection
        assert async_connection_class({}) is expected

    def test_wait_without_timeout_falls_back(self) -> None:
        """A psycopg whose ``AsyncConnection.wait()`` takes no ``timeout`` is not verified."""

        async def old_wait(self: Any, gen: Any, interval: float = 0.1) -> Any: ...

        assert verified_psycopg("3.3.9")
        assert not verified_psycopg("3.3.9", old_wait)

    def test_bad_value(self) -> None:
        """Another value is a configuration error naming the variable and the choices."""
        with pytest.raises(ConfigError, match="CODEX_DB_ASYNC_WAIT='keep' is not valid"):
            async_connection_class({WAIT_VARIABLE: "keep"}, "3.3.9")

    def test_pool_uses_the_module_choice(
        self, migrated_url: str, monkeypatch: pytest.MonkeyPatch, loop_kind: str
    ) -> None:
        """`AsyncDatabase` pools hand out ``connection_class()``: the choice made on opening."""
        assert pool_async.connection_class() is async_connection_class()

        async def main() -> list[type[Any]]:
            classes = []
            for cls in (KeepReaderConnection, DeadlineAsyncConnection):
                monkeypatch.setattr(pool_async, "connection_class", lambda cls=cls: cls)
                async with (
                    AsyncDatabase.from_url(migrated_url, min_size=1, max_size=1) as client,
                    client.connection() as conn,
                ):
                    assert await one(conn, "SELECT 1") == 1
                    classes.append(type(conn).__mro__[1])  # the pool's: a recording subclass
            return classes

        assert run(loop_kind, main) == [KeepReaderConnection, DeadlineAsyncConnection]


class TestHotPath:
    def test_reader_kept_between_queries(
        self, migrated_url: str, loop_kind: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Queries work, and on asyncio the reader stays registered from one query to the next.

        A response that needs a second wait (split across TCP segments) registers the
        reader afresh, so the check allows a few registrations, not one per query.
        """
        registered: list[int] = []
        add_reader = KeepReaderConnection._reader

        def counting(self: KeepReaderConnection[Any], loop: asyncio.AbstractEventLoop) -> Any:
            before = self._codex_reader
            reader = add_reader(self, loop)
            if reader is not before:
                registered.append(reader.fd)
            return reader

        monkeypatch.setattr(KeepReaderConnection, "_reader", counting)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            conn = await connect(migrated_url)
            try:
                for _ in range(3):  # prepared on the second run
                    assert await one(conn, "SELECT $1::int", (0,)) == 0
                registered.clear()
                for i in range(40):
                    assert await one(conn, "SELECT $1::int", (i,)) == i
                reader = conn._codex_reader
                assert reader is not None and reader.loop is loop
                if loop_kind == "asyncio":
                    assert watched(loop, conn.fileno()) is True
            finally:
                await conn.close()
            assert conn._codex_reader is None

        run(loop_kind, main)
        assert len(registered) <= 10, f"{len(registered)} registrations for 40 queries"

    def test_new_loop(self, migrated_url: str, loop_kind: str) -> None:
        """A connection used from a second loop registers its reader there."""
        box: list[KeepReaderConnection[Any]] = []

        async def first() -> None:
            box.append(await connect(migrated_url))
            assert await one(box[0], "SELECT 1") == 1

        async def second() -> None:
            conn = box[0]
            assert await one(conn, "SELECT 2") == 2
            reader = conn._codex_reader
            assert reader is not None and reader.loop is asyncio.get_running_loop()
            await conn.close()

        run(loop_kind, first)
        run(loop_kind, second)


class TestInterruptions:
    def test_wait_for_cancels_the_query(
        self, migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
    ) -> None:
        """A `wait_for` timeout returns at once: the connection is abandoned (closed, so a
        pool replaces it) and the query is cancelled on the server in the background."""

        async def main() -> None:
            conn = await connect(migrated_url)
            pid = conn.info.backend_pid
            try:
                assert await one(conn, "SELECT 1") == 1
                start = time.monotonic()
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(one(conn, "SELECT pg_sleep(30)"), 0.3)
                assert time.monotonic() - start < 0.5
                assert conn.closed
                assert wait_until(lambda: _backend_gone(admin, pid), 5)
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_statement_timeout(self, migrated_url: str, loop_kind: str) -> None:
        """A statement_timeout raises `QueryCanceled`; the connection is reusable."""

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                await conn.execute("SET statement_timeout = '100ms'")
                with pytest.raises(e.QueryCanceled):
                    await one(conn, "SELECT pg_sleep(5)")
                await conn.execute("SET statement_timeout = 0")
                assert await one(conn, "SELECT 1") == 1
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_close_from_another_task(self, migrated_url: str, loop_kind: str) -> None:
        """`close()` while a query waits: the waiting task fails instead of hanging."""

        async def main() -> None:
            conn = await connect(migrated_url)
            assert await one(conn, "SELECT 1") == 1
            fd = conn.fileno()
            query = asyncio.create_task(one(conn, "SELECT pg_sleep(30)"))
            await until(running(conn))
            await conn.close()
            with pytest.raises(psycopg.OperationalError):
                await outcome(query)
            assert unwatched(fd)

        run(loop_kind, main)


class TestDeadConnections:
    def test_terminated_while_idle(
        self, migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
    ) -> None:
        """The server closing an idle connection unregisters the reader; the next query fails."""

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                assert await one(conn, "SELECT 1") == 1
                reader = conn._codex_reader
                fd = conn.fileno()
                kill(admin, conn)
                # The reader fires once with nobody waiting and stops watching:
                # a readable socket nobody reads would keep the loop busy.
                assert reader is not None
                await until(lambda: reader.loop is None)
                assert unwatched(fd)
                with pytest.raises(psycopg.OperationalError):
                    await one(conn, "SELECT 1")
                assert conn._codex_reader is None
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_terminated_mid_query(
        self, migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
    ) -> None:
        """A backend terminated during a query raises at once and leaves no reader."""

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                assert await one(conn, "SELECT 1") == 1
                fd = conn.fileno()
                query = asyncio.create_task(one(conn, "SELECT pg_sleep(30)"))
                await until(running(conn))
                kill(admin, conn)
                with pytest.raises(psycopg.OperationalError):
                    await outcome(query)
                assert conn._codex_reader is None
                assert unwatched(fd)
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_reset_with_the_reply_unread(self, migrated_url: str, loop_kind: str) -> None:
        """A reply and a TCP reset that arrive together: the reply is read or the query
        fails, and the next query fails instead of hanging. On uvloop the socket error
        closes the loop's poll handle after the reply is read; a reader kept from that
        wait would never fire again (`KeepReaderConnection._rearmed`)."""

        async def main() -> None:
            with FaultyProxy(migrated_url) as proxy:
                for _ in range(3):
                    conn = await connect(proxy.url())
                    try:
                        assert await one(conn, "SELECT 1") == 1
                        fd = conn.fileno()
                        proxy.reset_after_reply_to(b"reset_me")
                        query = asyncio.create_task(one(conn, "SELECT 2 AS reset_me"))
                        await until(running(conn))
                        await asyncio.sleep(0)  # the task now waits for the reply
                        time.sleep(0.2)  # busy loop: the reply and the reset arrive together
                        with contextlib.suppress(psycopg.OperationalError):
                            assert await outcome(query) == 2
                        nxt = asyncio.create_task(one(conn, "SELECT 3"))
                        with pytest.raises(psycopg.OperationalError):
                            await outcome(nxt)
                        assert conn._codex_reader is None
                    finally:
                        await conn.close()
                    assert unwatched(fd)

        run(loop_kind, main)

    def test_socket_number_reused(
        self, migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
    ) -> None:
        """A connection on the socket number of a dead or closed one works."""

        async def main() -> None:
            for ending in ("terminated", "closed", "terminated mid-query"):
                old = await connect(migrated_url)
                assert await one(old, "SELECT 1") == 1
                fd = old.fileno()
                if ending == "terminated":
                    kill(admin, old)
                    with pytest.raises(psycopg.OperationalError):
                        await one(old, "SELECT 1")
                elif ending == "terminated mid-query":
                    query = asyncio.create_task(one(old, "SELECT pg_sleep(30)"))
                    await until(running(old))
                    kill(admin, old)
                    with pytest.raises(psycopg.OperationalError):
                        await outcome(query)
                await old.close()
                assert unwatched(fd)
                new = await connect(migrated_url)
                try:
                    assert new.fileno() == fd, "the test needs the socket number to be reused"
                    for i in range(5):
                        assert await asyncio.wait_for(one(new, "SELECT $1::int", (i,)), HANG) == i
                finally:
                    await new.close()

        run(loop_kind, main)

    def test_garbage_collected_connection(self, migrated_url: str, loop_kind: str) -> None:
        """An open connection that is garbage-collected removes its reader."""

        async def main() -> None:
            conn = await connect(migrated_url)
            assert await one(conn, "SELECT 1") == 1
            fd = conn.fileno()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)  # "deleted while still open"
                del conn
                gc.collect()
            assert unwatched(fd)

        run(loop_kind, main)


class TestOtherWaits:
    def test_listen_notify(
        self, migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
    ) -> None:
        """Notifications arriving while idle or while `notifies()` waits; timeouts; handlers."""
        channel = f"ch_{uuid.uuid4().hex[:8]}"

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                assert await one(conn, "SELECT 1") == 1  # reader kept
                admin.execute("SELECT pg_notify(%s, %s)", (channel, "idle"))  # nobody waits
                await until(lambda: conn._codex_reader is None or conn._codex_reader.loop is None)
                got: list[str] = []

                async def listen() -> None:
                    async for n in conn.notifies(stop_after=2):
                        got.append(n.payload)

                listener = asyncio.create_task(listen())
                await until(lambda: got == ["idle"])
                admin.execute("SELECT pg_notify(%s, %s)", (channel, "live"))
                await asyncio.wait_for(listener, HANG)
                assert got == ["idle", "live"]

                async def drain() -> list[str]:
                    return [n.payload async for n in conn.notifies(timeout=0.2)]

                assert await asyncio.wait_for(drain(), HANG) == []

                seen: list[str] = []
                conn.add_notify_handler(lambda n: seen.append(n.payload))
                admin.execute("SELECT pg_notify(%s, %s)", (channel, "handler"))
                await until(lambda: conn._codex_reader is None or conn._codex_reader.loop is None)
                assert await one(conn, "SELECT 1") == 1
                assert seen == ["handler"]
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_pipeline_copy_big_parameter(self, migrated_url: str, loop_kind: str) -> None:
        """Pipeline mode, a 5 MB parameter, COPY, executemany and stream() (psycopg's waits)."""

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                async with conn.pipeline():
                    cursors = [await conn.execute("SELECT %s::int", (i,)) for i in range(10)]
                assert [(await cur.fetchone() or (None,))[0] for cur in cursors] == list(range(10))
                assert await one(conn, "SELECT length($1::text)", ("x" * 5_000_000,)) == 5_000_000
                await conn.execute("CREATE TEMP TABLE wait_rows (a int, b text)")
                async with conn.cursor().copy("COPY wait_rows FROM STDIN") as copy:
                    for i in range(20_000):
                        await copy.write_row((i, "row"))
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO wait_rows VALUES (%s, %s)", [(i, "m") for i in range(100)]
                    )
                assert await one(conn, "SELECT count(*) FROM wait_rows") == 20_100
                async with conn.cursor() as cur:
                    rows = [row[0] async for row in cur.stream("SELECT generate_series(1, 1000)")]
                assert rows == list(range(1, 1001))
                assert await one(conn, "SELECT 7") == 7
            finally:
                await conn.close()

        run(loop_kind, main)

    def test_error_in_transaction_block(self, migrated_url: str, loop_kind: str) -> None:
        """A failed statement in a transaction block rolls back; the connection is reusable."""

        async def main() -> None:
            conn = await connect(migrated_url)
            try:
                with pytest.raises(e.DivisionByZero):
                    async with conn.transaction():
                        await conn.execute("SELECT 1/0")
                assert reusable(conn)
                assert await one(conn, "SELECT 7") == 7
            finally:
                await conn.close()

        run(loop_kind, main)


def test_pool_recovers_from_terminated_backends(
    migrated_url: str, admin: psycopg.Connection[Any], loop_kind: str
) -> None:
    """`AsyncDatabase` discards terminated connections, then serves 8 tasks with no reader left."""

    async def main() -> None:
        async with AsyncDatabase.from_url(migrated_url, min_size=2, max_size=2) as client:
            fds = set()
            for _ in range(3):
                async with client.connection() as conn:
                    assert isinstance(conn, KeepReaderConnection)
                    assert await one(conn, "SELECT 1") == 1
                    fds.add(conn.fileno())
                    kill(admin, conn)
                    with pytest.raises(psycopg.OperationalError):
                        await one(conn, "SELECT 1")

            async def worker(k: int) -> None:
                for i in range(50):
                    assert await client.fetch_one("SELECT $1::int", (k * 100 + i,), scalar) == (
                        k * 100 + i
                    )

            await asyncio.wait_for(asyncio.gather(*(worker(k) for k in range(8))), 60)
            async with client.connection() as conn:
                fds.add(conn.fileno())
        assert all(unwatched(fd) for fd in fds)

    run(loop_kind, main)
