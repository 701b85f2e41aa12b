"""The clients on a network that misbehaves: a TCP proxy (`tests._proxy`) between them
and a real server blackholes, resets and loses replies.

Each test prints its figures (``-s`` shows them): how long a call took to fail or
to succeed again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import psycopg
import pytest

from codex_db import (
    AsyncDatabase,
    Database,
    DatabaseConnectionError,
    DatabaseWs,
    DeadlineExceededError,
    PoolExhaustedError,
    deadline,
)
from codex_db._pool_base import NETWORK_DEFAULTS, network_defaults
from codex_db.dbtx import scalar
from tests._proxy import FaultyProxy

T = TypeVar("T")

pytestmark = pytest.mark.slow

LOOPS = ["asyncio", "uvloop"]


def run_loop(loop_kind: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` on a new event loop of *loop_kind* (uvloop skips when not installed)."""
    if loop_kind == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    return asyncio.run(main())


LEDGER = """
CREATE TABLE ledger (id serial PRIMARY KEY, note text NOT NULL);
CREATE SEQUENCE ticket;
CREATE FUNCTION write_ledger(note text) RETURNS integer LANGUAGE sql AS
    'INSERT INTO ledger (note) VALUES (note) RETURNING id';
"""

#: Statements that write, each holding the marker the proxy watches for. The old
#: rule (re-run a read whose connection was lost, a read being text starting with
#: SELECT) ran each of the first four twice with "success".
WRITES = {
    "select-of-a-writing-function": "SELECT write_ledger('lost-reply')",
    "select-nextval": "SELECT nextval('ticket'), 'lost-reply'",
    "insert-behind-nested-comment": (
        "/* /* */ SELECT */ INSERT INTO ledger (note) VALUES ('lost-reply') RETURNING id"
    ),
    "select-then-insert": "SELECT 1; INSERT INTO ledger (note) VALUES ('lost-reply') RETURNING id",
    "insert": "INSERT INTO ledger (note) VALUES ('lost-reply') RETURNING id",
}


def figure(name: str, seconds: float) -> None:
    print(f"\n  {name}: {seconds:.3f} s")


def ran(url: str) -> int:
    """How many times the marked statements ran: ledger rows plus tickets drawn."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM ledger").fetchone()
        ticket = conn.execute("SELECT last_value, is_called FROM ticket").fetchone()
    assert rows is not None and ticket is not None
    return int(rows[0]) + (int(ticket[0]) if ticket[1] else 0)


@pytest.fixture
def ledger_url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(LEDGER)


@pytest.fixture
def proxy(ledger_url: str) -> Iterator[FaultyProxy]:
    with FaultyProxy(ledger_url) as proxy:
        yield proxy


class TestNothingRunsTwice:
    @pytest.mark.parametrize("statement", list(WRITES.values()), ids=list(WRITES))
    def test_lost_reply_is_raised_never_rerun(
        self, statement: str, proxy: FaultyProxy, ledger_url: str
    ) -> None:
        """The reply is lost after the server ran the statement: an error, and it ran once."""
        with Database.from_url(proxy.url(), min_size=1) as db:
            db.fetch_one("SELECT 1", (), scalar)
            proxy.lose_reply_to(b"lost-reply")
            with pytest.raises(psycopg.OperationalError):
                db.fetch_all(statement, (), scalar)
            assert proxy.replies_lost == 1
            assert ran(ledger_url) == 1
            assert db.fetch_one("SELECT 2", (), scalar) == 2  # the pool replaced the connection

    @pytest.mark.parametrize("loop_kind", LOOPS)
    @pytest.mark.parametrize("statement", list(WRITES.values())[:2], ids=list(WRITES)[:2])
    def test_async_lost_reply_is_raised_never_rerun(
        self, statement: str, proxy: FaultyProxy, ledger_url: str, loop_kind: str
    ) -> None:
        async def main() -> None:
            async with AsyncDatabase.from_url(proxy.url(), min_size=1) as db:
                await db.fetch_one("SELECT 1", (), scalar)
                proxy.lose_reply_to(b"lost-reply")
                with pytest.raises(psycopg.OperationalError):
                    await db.fetch_all(statement, (), scalar)

        run_loop(loop_kind, main)
        assert ran(ledger_url) == 1

    def test_killed_idle_connections_are_replaced_silently(self, ledger_url: str) -> None:
        """Backends of idle pooled connections are terminated: the next writes just work."""
        with Database.from_url(ledger_url, min_size=3, max_size=3) as db:
            _hold_all(db, 3)
            killed = _terminate_others(ledger_url)
            assert killed >= 3
            for n in range(6):
                db.execute("INSERT INTO ledger (note) VALUES ($1)", (f"after-kill-{n}",))
        assert ran(ledger_url) == 6

    @pytest.mark.parametrize("loop_kind", LOOPS)
    def test_async_killed_idle_connections_are_replaced_silently(
        self, ledger_url: str, loop_kind: str
    ) -> None:
        async def main() -> None:
            async with AsyncDatabase.from_url(ledger_url, min_size=2, max_size=2) as db:
                await asyncio.gather(
                    *(db.fetch_one("SELECT pg_sleep(0.1)", (), scalar) for _ in range(2))
                )
                assert _terminate_others(ledger_url) >= 2
                for n in range(4):
                    await db.execute("INSERT INTO ledger (note) VALUES ($1)", (f"k{n}",))

        run_loop(loop_kind, main)
        assert ran(ledger_url) == 4


#: A silent call on each execution path of the adapters: without parameters (psycopg's
#: cursor) and with them (the lean path, `codex_db._conn_async.AsyncConn._run`).
SILENT_CALLS = pytest.mark.parametrize(
    ("query", "params"), [("SELECT 1", ()), ("SELECT $1::int", (1,))], ids=["cursor", "lean"]
)


class TestDeadline:
    @SILENT_CALLS
    def test_silent_connection_fails_within_the_deadline(
        self, proxy: FaultyProxy, query: str, params: tuple[Any, ...]
    ) -> None:
        """Nothing answers: the call raises at its deadline, then the pool serves again."""
        with Database.from_url(proxy.url(), min_size=1, deadline=1.5, pool_timeout=5) as db:
            db.fetch_one(query, params, scalar)
            proxy.blackhole()
            start = time.monotonic()
            with pytest.raises(DeadlineExceededError) as caught:
                db.fetch_one(query, params, scalar)
            took = time.monotonic() - start
            figure("blackholed call raised after", took)
            assert 1.5 <= took < 2.0
            assert isinstance(caught.value, psycopg.errors.QueryCanceled)
            assert "deadline of 1.5 s" in str(caught.value)
            proxy.heal()
            start = time.monotonic()
            assert db.fetch_one("SELECT 3", (), scalar) == 3
            figure("first call after healing", time.monotonic() - start)

    def test_per_call_and_per_transaction_deadlines(self, ledger_url: str) -> None:
        with DatabaseWs.from_url(ledger_url) as db:
            with deadline(0.3), pytest.raises(DeadlineExceededError):
                db.fetch_one("SELECT pg_sleep(2)", (), scalar)
            start = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                _sleep_in_one_transaction(db, deadline=1.0, times=5)
            assert time.monotonic() - start < 1.4
            assert db.fetch_one("SELECT 4", (), scalar) == 4

    @SILENT_CALLS
    @pytest.mark.parametrize("loop_kind", LOOPS)
    def test_async_cancellation_returns_promptly(
        self, proxy: FaultyProxy, loop_kind: str, query: str, params: tuple[Any, ...]
    ) -> None:
        """asyncio.timeout(1) around a silent call returns after ~1 s (psycopg's own wait: 11 s)."""

        async def main() -> float:
            async with AsyncDatabase.from_url(proxy.url(), min_size=1, deadline=None) as db:
                await db.fetch_one(query, params, scalar)
                proxy.blackhole()
                start = time.monotonic()
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(1):
                        await db.fetch_one(query, params, scalar)
                took = time.monotonic() - start
                proxy.heal()
                assert await db.fetch_one("SELECT 5", (), scalar) == 5
                return took

        took = run_loop(loop_kind, main)
        figure(f"{loop_kind}: asyncio.timeout(1) returned after", took)
        assert took < 1.5

    @SILENT_CALLS
    @pytest.mark.parametrize("loop_kind", LOOPS)
    def test_async_deadline(
        self, proxy: FaultyProxy, loop_kind: str, query: str, params: tuple[Any, ...]
    ) -> None:
        async def main() -> float:
            async with AsyncDatabase.from_url(proxy.url(), min_size=1, deadline=1.0) as db:
                await db.fetch_one(query, params, scalar)
                proxy.blackhole()
                start = time.monotonic()
                with pytest.raises(DeadlineExceededError):
                    await db.fetch_one(query, params, scalar)
                took = time.monotonic() - start
                proxy.heal()
                assert await db.fetch_one("SELECT 6", (), scalar) == 6
                return took

        took = run_loop(loop_kind, main)
        figure(f"{loop_kind}: blackholed call raised after", took)
        assert 1.0 <= took < 1.5


class TestNetworkDefaults:
    def test_defaults_reach_the_connection_and_the_url_wins(self, ledger_url: str) -> None:
        with Database.from_url(ledger_url) as db, db.connection() as conn:
            params = conn.info.get_parameters()
        assert {k: params.get(k) for k in NETWORK_DEFAULTS} == dict(NETWORK_DEFAULTS)
        assert "connect_timeout" not in network_defaults("postgresql://h/db?connect_timeout=3")
        assert network_defaults("postgresql://h/db?keepalives=0").get("keepalives") is None


class TestFailFast:
    @pytest.mark.parametrize(
        ("change", "says"),
        [
            ("dbname=no_such_database_x", "does not exist"),
            ("user=no_such_role_x", "does not exist"),
            ("host=no-such-host.invalid", "no-such-host.invalid"),
        ],
    )
    def test_permanent_errors_raise_within_a_second(
        self, ledger_url: str, change: str, says: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        key, value = change.split("=")
        url = psycopg.conninfo.make_conninfo(ledger_url, **{key: value})
        with Database.from_url(url, pool_timeout=30) as db:
            start = time.monotonic()
            with pytest.raises(DatabaseConnectionError) as caught:
                db.fetch_one("SELECT 1", (), scalar)
            took = time.monotonic() - start
        figure(f"{change}: raised after", took)
        assert took < 1.5
        assert says in str(caught.value)
        connecting = [r for r in caplog.records if "error connecting" in r.getMessage()]
        assert len(connecting) <= 1

    def test_pool_exhausted_tells_the_truth(self, ledger_url: str) -> None:
        with Database.from_url(ledger_url, min_size=1, max_size=2, pool_timeout=0.5) as db:
            release = threading.Event()
            holders = [threading.Thread(target=_hold, args=(db, release)) for _ in range(2)]
            for holder in holders:
                holder.start()
            time.sleep(0.3)
            try:
                with pytest.raises(PoolExhaustedError) as caught:
                    db.fetch_one("SELECT 1", (), scalar)
            finally:
                release.set()
                for holder in holders:
                    holder.join()
        message = str(caught.value)
        assert "2 of max_size=2 in use, 0 connecting, 0 other callers waiting" in message
        assert ledger_url.split("/")[-1].split("?")[0] in message  # names the database

    def test_blackholed_connects_recover_within_connect_timeout(self, proxy: FaultyProxy) -> None:
        """New connections go unanswered for 3 s (and an attempt made then never completes):
        the first call succeeds within the default connect_timeout (10 s) instead of
        psycopg's 130 s."""
        with Database.from_url(proxy.url(), min_size=1, pool_timeout=20) as db:
            proxy.blackhole()
            threading.Timer(3.0, proxy.heal).start()
            start = time.monotonic()
            assert db.fetch_one("SELECT 8", (), scalar) == 8
            took = time.monotonic() - start
        figure("first call, connections blackholed for the first 3 s", took)
        assert took < 11.0

    def test_a_waking_server_is_waited_for(self, proxy: FaultyProxy) -> None:
        """A scale-to-zero compute refuses connections while it starts (here 2.5 s): the
        first call of a new client keeps trying within pool_timeout, and succeeds soon
        after the server accepts."""
        proxy.refuse()
        threading.Timer(2.5, proxy.accept).start()
        start = time.monotonic()
        with Database.from_url(proxy.url(), pool_timeout=10) as db:
            assert db.fetch_one("SELECT 9", (), scalar) == 9
        after = time.monotonic() - start - 2.5
        figure("first call after the server woke up", after)
        assert after < 1.0

    def test_tls_required_but_refused_raises_within_a_second(self, proxy: FaultyProxy) -> None:
        with Database.from_url(proxy.url(sslmode="require"), pool_timeout=30) as db:
            start = time.monotonic()
            with pytest.raises(DatabaseConnectionError, match="SSL") as caught:
                db.fetch_one("SELECT 1", (), scalar)
            took = time.monotonic() - start
        figure("sslmode=require refused: raised after", took)
        assert took < 1.5 and "fix sslmode" in str(caught.value)

    def test_recovery_within_a_second_of_the_server_accepting(self, proxy: FaultyProxy) -> None:
        """The server refuses for 4.5 s; a waiting caller gets through soon after it accepts
        (psycopg-pool alone retries 1, 3, 7 s after the failure: 2.5 s late)."""
        with Database.from_url(proxy.url(), min_size=1, pool_timeout=10) as db:
            db.fetch_one("SELECT 1", (), scalar)
            proxy.refuse()
            proxy.reset()
            threading.Timer(4.5, proxy.accept).start()
            start = time.monotonic()
            assert db.fetch_one("SELECT 7", (), scalar) == 7
            after = time.monotonic() - start - 4.5
        figure("first call after the server accepted again", after)
        assert after < 1.0


def _sleep_in_one_transaction(db: DatabaseWs, *, deadline: float, times: int) -> None:
    with db.transaction(deadline=deadline) as tx:
        for _ in range(times):
            tx.fetch_one("SELECT pg_sleep(0.4)", (), scalar)


def _hold(db: Database, release: threading.Event) -> None:
    with db.connection():
        release.wait(5)


def _hold_all(db: Database, n: int) -> None:
    """Make the pool open *n* connections (n calls at once)."""
    barrier = threading.Barrier(n)

    def one() -> None:
        barrier.wait()
        db.fetch_one("SELECT pg_sleep(0.1)", (), scalar)

    workers = [threading.Thread(target=one) for _ in range(n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _terminate_others(url: str) -> int:
    """Terminate every other backend of *url*'s database; return how many."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    time.sleep(0.05)  # gone (the timeout waits for that); let the FATAL reach the sockets
    return len(rows)
