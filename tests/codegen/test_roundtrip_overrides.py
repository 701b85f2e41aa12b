"""Round trip of the overrides case: typed JSON (msgspec.convert), domains, renames; async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import psycopg

from codex_db import dbtx
from tests.codegen.cases.overrides.expected import models, queries, queries_async
from tests.codegen.jsontypes import Address, Profile

SCHEMA = (Path(__file__).parent / "cases" / "overrides" / "schema.sql").read_text()


async def _flow(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        db = dbtx.AsyncConn.of(conn)
        person = await queries_async.create_person(
            db,
            email="a@b.c",
            profile=Profile("ada", ["x"]),
            address=None,
            remark="hi",
            type_="admin",
        )
        assert isinstance(person, models.People)
        assert person.profile == Profile("ada", ["x"]) and person.address is None
        assert (person.remark, person.type_, person.extra, person.price) == (
            "hi",
            "admin",
            None,
            None,
        )
        await conn.execute('UPDATE people SET address = \'{"city": "Oslo"}\'')
        again = await queries_async.get_person(db, id=person.id)
        assert again is not None and again.address == Address("Oslo")
        profile = await queries_async.get_profile(db, id=person.id)
        assert profile == queries.GetProfileRow(Profile("ada", ["x"]))
        assert await queries_async.list_notes(db) == [queries.ListNotesRow(person.id, "hi")]


def test_overrides_round_trip(fresh_database: Callable[..., str]) -> None:
    """JSON columns overridden to Structs are converted on read and encoded on write."""
    asyncio.run(_flow(fresh_database(SCHEMA)))
