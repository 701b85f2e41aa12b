"""``batch()``: a few generated calls applied atomically in one short transaction, in one
round trip (psycopg pipeline mode), counted on the wire by a proxy."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import psycopg
import pytest

from codex_db import (
    AsyncDatabase,
    Database,
    DatabaseWs,
    DeadlineExceededError,
    IsolationLevel,
    TransactionNotSupportedError,
)
from codex_db.client import Call, TransactionKwargs
from codex_db.dbtx import scalar
from codex_db.generated import content, models, users, users_async
from tests._proxy import FaultyProxy


def params(uid: str, email: str | None = None) -> users.CreateUserParams:
    return users.CreateUserParams(id=uid, name="Kim", email=email or f"{uid}@x.test")


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    with Database.from_url(url, max_size=2) as client:
        yield client


def count(db: Database) -> int | None:
    return db.fetch_one("SELECT count(*) FROM users", (), scalar)


def test_results_in_order_with_their_types(db: Database) -> None:
    """batch returns each call's result, in order (typed per position)."""
    uid = f"b-{uuid.uuid4().hex[:8]}"
    created, verified, found = db.batch(
        partial(users.create_user, params=params(uid)),
        partial(users.verify_user_email, id=uid),
        partial(users.get_user, id=uid),
    )
    assert isinstance(created, models.User) and created.id == uid
    assert verified == 1
    assert found is not None and found.email_verified is True


def test_all_or_nothing(db: Database) -> None:
    """When a later call fails, the earlier ones are rolled back too."""
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.batch(
            partial(users.create_user, params=params("b1", "same@x.test")),
            partial(users.create_user, params=params("b2", "same@x.test")),
        )
    assert count(db) == 0


def test_options_reach_the_transaction(db: Database) -> None:
    """isolation_level/read_only/timeouts apply to the batch's transaction only."""
    show = "SELECT current_setting('transaction_isolation'), current_setting('statement_timeout')"
    (settings,) = db.batch(
        lambda tx: tx.query_one(show),
        isolation_level=IsolationLevel.REPEATABLE_READ,
        statement_timeout=3,
    )
    assert settings == ("repeatable read", "3s")
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        db.batch(partial(users.create_user, params=params("ro")), read_only=True)
    assert db.query_one(show) == ("read committed", "0")


def test_transaction_stays_refused(db: Database) -> None:
    """The autocommit client still hands out no interactive transaction."""
    with pytest.raises(TransactionNotSupportedError, match=r"batch\(\)"):
        db.transaction()


def test_many_calls(db: Database) -> None:
    """Any number of calls can be batched (untyped beyond four)."""
    calls = [partial(users.create_user, params=params(f"m{i}")) for i in range(6)]
    results = db.batch(*calls)
    assert [r.id for r in results] == [f"m{i}" for i in range(6)]


def test_async_batch(url: str) -> None:
    """The async client's batch awaits each call in one transaction."""

    async def main() -> tuple[models.User | None, models.User | None]:
        async with AsyncDatabase.from_url(url) as adb:
            return await adb.batch(
                partial(users_async.create_user, params=params("ab")),
                partial(users_async.get_user, id="ab"),
            )

    created, found = asyncio.run(main())
    assert created is not None and created.id == "ab" and found == created


# -- one round trip (psycopg pipeline mode) ---------------------------------------------------


@pytest.fixture
def proxy(url: str) -> Iterator[FaultyProxy]:
    """A proxy in front of the test's database that counts protocol messages."""
    with FaultyProxy(url) as counting:
        yield counting


def new_user(db: Database) -> str:
    uid = f"r-{uuid.uuid4().hex[:8]}"
    users.create_user(db, params=params(uid))
    return uid


def three(uid: str) -> tuple[Call[Any], Call[Any], Call[Any]]:
    """Three generated calls none of which can fail on its own result."""
    return (
        partial(users.get_user, id=uid),
        partial(users.verify_user_email, id=uid),
        partial(users.list_users, include_deleted=False, skip_rows=0, max_rows=10),
    )


def round_trips(proxy: FaultyProxy, run: Callable[[], object]) -> dict[str, int]:
    """The messages *run* exchanged: ``Z`` (ReadyForQuery) counts the round trips."""
    proxy.messages.clear()
    run()
    return {kind: proxy.messages[kind] for kind in "ZSHQ"}


def test_three_statements_in_one_round_trip(proxy: FaultyProxy) -> None:
    """BEGIN, the statements and COMMIT go out together, with one Sync: one ReadyForQuery."""
    with Database.from_url(proxy.url(), max_size=1) as db:
        uid = new_user(db)
        got: list[tuple[Any, ...]] = []
        counts = round_trips(proxy, lambda: got.append(db.batch(*three(uid))))
        found, verified, listed = got[0]
        # psycopg follows the Sync with a Flush in the same write: no wait of its own.
        assert counts == {"Z": 1, "S": 1, "H": 1, "Q": 0}
        assert isinstance(found, models.User) and found.id == uid and not found.email_verified
        assert verified == 1
        assert [u.id for u in listed] == [uid] and listed[0].email_verified
        assert db.fetch_one("SELECT email_verified FROM users WHERE id = $1", (uid,), scalar)


def test_the_same_statements_one_by_one_take_five(proxy: FaultyProxy) -> None:
    """What the counter shows without the pipeline: BEGIN, three statements, COMMIT."""
    with DatabaseWs.from_url(proxy.url(), max_size=1) as ws:
        uid = new_user(ws)

        def one_by_one() -> None:
            with ws.transaction() as tx:
                for call in three(uid):
                    call(tx)

        assert round_trips(proxy, one_by_one)["Z"] == 5


def test_options_and_timeouts_ride_the_same_round_trip(proxy: FaultyProxy) -> None:
    """BEGIN options and SET LOCAL timeouts cost no round trip; the connection is left clean."""
    with Database.from_url(proxy.url(), max_size=1) as db:
        uid = new_user(db)
        options: TransactionKwargs = {
            "isolation_level": IsolationLevel.SERIALIZABLE,
            "statement_timeout": 3,
            "lock_timeout": 1,
        }
        assert round_trips(proxy, lambda: db.batch(*three(uid), **options))["Z"] == 1
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            db.batch(*three(uid), read_only=True)
        show = (
            "SELECT current_setting('transaction_isolation'), current_setting('statement_timeout')"
        )
        assert db.query_one(show) == ("read committed", "0")


def test_a_failing_statement_applies_nothing(proxy: FaultyProxy) -> None:
    """The pipeline aborts at the error: the server skips the rest and the COMMIT."""
    with Database.from_url(proxy.url(), max_size=1) as db:
        uid = new_user(db)
        with pytest.raises(psycopg.errors.InvalidRowCountInLimitClause, match="LIMIT"):
            db.batch(
                partial(users.verify_user_email, id=uid),
                partial(users.list_users, include_deleted=False, skip_rows=0, max_rows=-1),
                partial(users.soft_delete_user, id=uid),
            )
        found = users.get_user(db, id=uid)
        assert found is not None and not found.email_verified  # the first one was rolled back
        assert db.batch(*three(uid))[1] == 1  # and the connection is fine


def test_a_call_failing_on_its_result_rolls_back(url: str, proxy: FaultyProxy) -> None:
    """A :one insert raises when a trigger skipped its row; COMMIT then waits for the results
    (two round trips), so that error still rolls the whole batch back."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION skip_muted() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN IF NEW.id LIKE 'muted-%' THEN RETURN NULL; END IF; RETURN NEW; END $$"
        )
        admin.execute(
            "CREATE TRIGGER skip_muted BEFORE INSERT ON users"
            " FOR EACH ROW EXECUTE FUNCTION skip_muted()"
        )
    with Database.from_url(proxy.url(), max_size=1) as db:
        with pytest.raises(RuntimeError, match="CreateUser returned no row"):
            db.batch(
                partial(users.create_user, params=params("kept-1")),
                partial(users.create_user, params=params("muted-1")),
            )
        assert count(db) == 0
        counts = round_trips(
            proxy, lambda: db.batch(partial(users.create_user, params=params("kept-2")))
        )
        assert counts["Z"] == 2 and counts["Q"] == 0
        assert count(db) == 1


def test_async_batch_in_one_round_trip(proxy: FaultyProxy) -> None:
    """The async client's batch pipelines the same way."""

    async def main() -> tuple[Any, ...]:
        async with AsyncDatabase.from_url(proxy.url(), max_size=1) as adb:
            uid = f"a-{uuid.uuid4().hex[:8]}"
            await users_async.create_user(adb, params=params(uid))
            proxy.messages.clear()
            return await adb.batch(
                partial(users_async.get_user, id=uid),
                partial(users_async.verify_user_email, id=uid),
            )

    found, verified = asyncio.run(main())
    assert proxy.messages["Z"] == 1 and proxy.messages["S"] == 1
    assert found is not None and verified == 1


def test_lambdas_still_run_one_by_one(proxy: FaultyProxy) -> None:
    """Only partials of generated functions are pipelined: a lambda may do anything."""
    with Database.from_url(proxy.url(), max_size=1) as db:
        uid = new_user(db)
        counts = round_trips(proxy, lambda: db.batch(lambda tx: users.get_user(tx, id=uid)))
        assert counts["Z"] == 3  # BEGIN, the statement, COMMIT


def test_deadline_bounds_the_pipeline(proxy: FaultyProxy) -> None:
    """A silent network fails the batch within the client's deadline."""
    with Database.from_url(proxy.url(), max_size=1, deadline=1.0) as db:
        uid = new_user(db)
        proxy.blackhole()
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            db.batch(*three(uid))
        assert time.monotonic() - start < 4
        proxy.heal()
        assert db.batch(*three(uid))[1] == 1  # a new connection replaced the abandoned one


def test_serialization_failure_is_retried(url: str, caplog: pytest.LogCaptureFixture) -> None:
    """attempts > 1 re-runs a pipelined batch that lost a conflict."""
    caplog.set_level("INFO", logger="codex_db")
    with Database.from_url(url, max_size=2) as db:
        uid = new_user(db)
        with psycopg.connect(url) as other:
            other.execute("UPDATE users SET name = 'Other' WHERE id = %s", (uid,))
            done: list[tuple[models.User | None]] = []
            worker = threading.Thread(
                target=lambda: done.append(
                    db.batch(
                        partial(users.update_user, id=uid, name="Batch", image=None),
                        isolation_level=IsolationLevel.REPEATABLE_READ,
                        attempts=3,
                    )
                )
            )
            worker.start()
            time.sleep(0.5)  # the batch waits on the row lock
            other.commit()  # its UPDATE now fails to serialize; the retry succeeds
            worker.join(10)
        (updated,) = done[0]
        assert updated is not None and updated.name == "Batch"
        assert "could not serialize" in caplog.text  # the first attempt lost, the second won


@pytest.mark.pooler
def test_one_round_trip_through_pgbouncer(pooled_database: Callable[[], str]) -> None:
    """Pipeline mode through PgBouncer in transaction mode, prepared statements or not."""
    pooled_url = pooled_database()
    mode = "transaction" if _pgbouncer_prepares(pooled_url) else "transaction-unprepared"
    with (
        FaultyProxy(pooled_url) as proxy,  # counts what goes through PgBouncer
        # One connection: a second one opening in the background would add its own
        # startup's ReadyForQuery (and its set-up's) to the count.
        Database.from_url(proxy.url(), pooler=mode, min_size=1, max_size=1) as db,
    ):
        got: list[tuple[Any, ...]] = []

        def batch(calls: tuple[Call[Any], ...]) -> None:
            got.append(db.batch(*calls))

        for _ in range(3):  # prepared after the first use, where the pooler maps them
            uid = new_user(db)
            assert round_trips(proxy, partial(batch, three(uid)))["Z"] == 1
            found, verified, listed = got[-1]
            assert found is not None and verified == 1 and listed
        with pytest.raises(psycopg.errors.InvalidRowCountInLimitClause):
            db.batch(
                partial(users.verify_user_email, id=uid),
                partial(users.list_users, include_deleted=False, skip_rows=0, max_rows=-1),
            )
        assert db.batch(*three(uid))[1] == 1
        assert db.query_one("SELECT current_setting('statement_timeout')") is not None


def _pgbouncer_prepares(url: str) -> bool:
    from tests.test_pooler import supports_prepared

    return supports_prepared(url)


def test_copyfrom_runs_statement_by_statement(proxy: FaultyProxy) -> None:
    """A :copyfrom call cannot be pipelined (COPY): the batch runs as a transaction."""
    with Database.from_url(proxy.url(), max_size=1) as db:
        uid = new_user(db)
        counts = round_trips(
            proxy, lambda: db.batch(partial(content.import_content, rows=[]), *three(uid))
        )
        assert counts["Z"] > 1
