"""Round trip of the lint_hazards case: what ruff would reject is escaped or renamed, not lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from codex_db import dbtx
from tests.codegen.cases.lint_hazards.expected import models, queries, queries_async

CASE = Path(__file__).parent / "cases" / "lint_hazards"
SCHEMA = (CASE / "schema.sql").read_text()


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def db(url: str) -> Iterator[dbtx.Conn]:
    with psycopg.connect(url, autocommit=True) as conn:
        models.register_types(conn)
        yield dbtx.Conn.of(conn)


def test_escaped_text_keeps_its_value() -> None:
    """The SQL constant and the docstring hold the tabs and the en dash, as escapes."""
    assert "\n\tWHERE id > $1\n  \tAND note <> '\u2013'\n" in queries.TABBED
    assert "\t" not in (CASE / "expected" / "queries.py").read_text()
    assert queries.tabbed.__doc__ is not None and "en dash \u2013 and a NBSP\u00a0too" in (
        queries.tabbed.__doc__
    )
    assert models.Mood("a\u2013b") is models.Mood.A_B


def test_renamed_members_and_classes_round_trip(db: dbtx.Conn) -> None:
    """O_, I_ and OEnum are the labels 'o', 'i' and the enum 'o' in the database."""
    queries.add_i(db, id=1, m=models.Mood.O_, kind=models.OEnum.X, note="a")
    queries.add_i(db, id=2, m=models.Mood.I_, note="\u2013")
    queries.add_i(db, id=3, m=models.Mood.QUOTE_D, note="c")
    assert queries.tabbed(db, after=0) == [queries.TabbedRow(1, "a"), queries.TabbedRow(3, "c")]
    assert queries.test(db, id=2) == queries.TestRow(2, models.Mood.I_)
    assert queries.test(db) is None
    assert queries.test_mood(db, m=models.Mood.O_) == [1]
    assert db.fetch_one("SELECT m::text FROM i WHERE id = 3", (), dbtx.scalar) == 'quote"d'


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await models.register_types_async(conn)
        db = dbtx.AsyncConn.of(conn)
        await queries_async.add_i(db, id=1, m=models.Mood.O_, note="a")
        assert await queries_async.tabbed(db, after=0) == [queries.TabbedRow(1, "a")]
        assert await queries_async.test(db, id=1) == queries.TestRow(1, models.Mood.O_)


def test_async_round_trip(url: str) -> None:
    asyncio.run(_async_round_trip(url))
