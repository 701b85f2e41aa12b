"""``batch()``: a few generated calls applied atomically in one short transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from functools import partial

import psycopg
import pytest

from codex_db import AsyncDatabase, Database, IsolationLevel, TransactionNotSupportedError
from codex_db.dbtx import scalar
from codex_db.generated import models, users, users_async


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
