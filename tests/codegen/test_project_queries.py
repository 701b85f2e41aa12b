"""The project's own generated queries (codex_db/generated) run against the real schema."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import psycopg

from codex_db import dbtx
from codex_db.generated import models, users, users_async

REPO = Path(__file__).parents[2]
SCHEMA = "\n".join(p.read_text() for p in sorted((REPO / "sql").glob("*.sql")))


def test_users_queries(fresh_database: Callable[..., str]) -> None:
    """Create, fetch, list and soft-delete users through the generated functions."""
    with psycopg.connect(fresh_database(SCHEMA), autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        params = users.CreateUserParams(
            id="u1", name="Ada", email="Ada@Example.com", email_verified=True, image=None
        )
        ada = users.create_user(db, params)
        assert isinstance(ada, models.User) and ada.email_verified
        assert users.get_user(db, id="u1") == ada
        assert users.get_user_by_email(db, email="ada@example.com") == ada
        assert users.list_users(db, skip_rows=0, max_rows=10) == [ada]
        assert users.soft_delete_user(db, id="u1") == 1
        assert users.soft_delete_user(db, id="u1") == 0
        assert users.get_user_by_email(db, email="ada@example.com") is None


async def _async_users(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        db = dbtx.AsyncConn.of(conn)
        params = users.CreateUserParams(
            id="u2", name="Bob", email="bob@example.com", email_verified=False, image="x"
        )
        bob = await users_async.create_user(db, params)
        assert bob is not None and bob.image == "x"
        assert await users_async.list_users(db, skip_rows=0, max_rows=1) == [bob]


def test_users_queries_async(fresh_database: Callable[..., str]) -> None:
    """The async twins of the project's queries work inside a transaction."""
    asyncio.run(_async_users(fresh_database(SCHEMA)))
