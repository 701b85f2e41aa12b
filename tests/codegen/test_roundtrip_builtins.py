"""Every built-in type of the server is known; text-only ones round-trip as str (sync, async)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from codex_db import dbtx
from codex_db.codegen.pgtypes import PyType, builtin_type
from tests.codegen.cases.builtins.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "builtins" / "schema.sql").read_text()
ANY = PyType("Any")
VALUES = {
    "c_tid": "(0,1)",
    "c_xid": "5",
    "c_xid8": "7",
    "c_cid": "3",
    "c_regclass": "oddities",
    "c_regtype": "integer",
    "c_regrole": "pg_monitor",
    "c_jsonpath": '$."a"',
    "c_aclitem": "pg_monitor=r/pg_monitor",
    "c_oidvector": "1 2",
}


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield dbtx.Conn.of(conn)


def test_every_builtin_type_is_known(db: dbtx.Conn) -> None:
    """Each base, range and multirange type of pg_catalog has a Python type (no Any)."""
    names = db.fetch_all(
        "SELECT typname::text FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace"
        " AND typtype IN ('b', 'r', 'm') AND typname NOT LIKE '\\_%' ORDER BY 1",
        (),
        dbtx.scalar,
    )
    assert len(names) > 80
    assert [n for n in names if builtin_type(n, ANY) is None] == []


def test_text_only_types_round_trip(db: dbtx.Conn) -> None:
    """psycopg has no loader for tid, xid8, regclass...: they are str both ways."""
    queries.add_oddity(db, id=1, c_xid8_array=["1", "2"], **VALUES)
    assert queries.get_oddity(db, id=1) == models.Oddity(id=1, c_xid8_array=["1", "2"], **VALUES)
    db.execute("UPDATE oddities SET c_xid8_array = '{1,NULL}'", ())
    row = queries.get_oddity(db, id=1)
    assert row is not None and row.c_xid8_array == ["1", None]
    assert queries.locations(db, after="(0,0)") == [queries.LocationsRow("(0,1)", "7")]
    assert isinstance(queries.current_xid(db), str)


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        db = dbtx.AsyncConn.of(conn)
        await queries_async.add_oddity(db, id=2, c_tid="(0,2)", c_xid8="9", c_regclass="oddities")
        row = await queries_async.get_oddity(db, id=2)
        assert row is not None and (row.c_tid, row.c_xid8, row.c_regclass) == (
            "(0,2)",
            "9",
            "oddities",
        )
        assert [r.c_xid8 for r in await queries_async.locations(db, after="(0,0)")] == ["9"]


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
