"""``:copyfrom`` through the generated code of ``cases/types``: binary COPY of every type it
supports, the text COPY fallback, and the errors of values a column cannot take."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Address
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

import msgspec
import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from codex_db import CopyDataError, dbtx
from tests.codegen.cases.types.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "types" / "schema.sql").read_text()
Conn = psycopg.Connection[tuple[Any, ...]]

EVERY = queries.CopyEverythingParams(
    c_smallint=-32768,
    c_integer=2_147_483_647,
    c_bigint=-9_000_000_000_000,
    c_real=1.5,
    c_double=-2.25,
    c_numeric=Decimal("1234.50"),
    c_bool=False,
    c_text="héllo %s $1 \\N \t\n tab",
    c_varchar="vc",
    c_char="ab",
    c_bytea=b"\x00\xff\\",
    c_uuid=uuid4(),
    c_date=date(2024, 2, 29),
    c_time=time(12, 30, 1, 250),
    c_timetz=time(8, 0, tzinfo=timezone(timedelta(hours=2))),
    c_timestamp=datetime(2024, 1, 2, 3, 4, 5, 6),
    c_timestamptz=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
    c_interval=timedelta(days=-1, seconds=5, microseconds=7),
    c_inet=IPv6Address("::1"),
    c_cidr=IPv4Network("10.0.0.0/8"),
    c_json={"plain": [1, 2]},
    c_jsonb={"ünï": {"cödé": ["😀", True, None, 1.5, {"deep": [[]]}]}},
    c_mood=models.Mood.VALUE_24H,
    c_level=models.ExtraLevel.HIGH,
    c_text_array=cast(list[str], ["x", None, "ü"]),  # NULL elements too
    c_int_matrix=[[1, 2], [3, 4]],
    c_uuid_array=[uuid4(), uuid4()],
)

# Only the NOT NULL columns set: everything else is NULL.
NULLS = queries.CopyEverythingParams(
    c_smallint=0,
    c_integer=0,
    c_bigint=0,
    c_real=0.0,
    c_double=0.0,
    c_numeric=Decimal(0),
    c_bool=True,
    c_text="",
    c_level=models.ExtraLevel.LOW,
    c_uuid_array=[],
)


def _expected(params: queries.CopyEverythingParams) -> dict[str, Any]:
    values = msgspec.structs.asdict(params)
    if values["c_char"] is not None:
        values["c_char"] = values["c_char"].ljust(3)  # char(3) pads
    return values


def _stored(row: models.Everything) -> dict[str, Any]:
    return {name: getattr(row, name) for name in msgspec.structs.asdict(EVERY)}


def _connect(url: str) -> Conn:
    conn = psycopg.connect(url, autocommit=True)
    dbtx.configure(conn)
    models.register_types(conn)
    conn.execute("SET lc_monetary TO 'C'")
    return conn


def _count(conn: Conn) -> int:
    found = conn.execute("SELECT count(*) FROM everything").fetchone()
    assert found is not None
    return int(found[0])


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture
def conn(url: str) -> Iterator[Conn]:
    with _connect(url) as conn:
        yield conn


def test_binary_copy_round_trips_every_type(conn: Conn) -> None:
    """Every column type of a binary COPY, NULLs included, reads back as it was written."""
    db = dbtx.Conn.of(conn)
    assert queries.COPY_EVERYTHING.rstrip().endswith("FROM STDIN (FORMAT BINARY)")
    assert queries.copy_everything(db, [EVERY, NULLS]) == 2
    first, second = queries.list_everything(db)
    assert _stored(first) == _expected(EVERY)
    assert _stored(second) == _expected(NULLS)
    assert first.c_mood is models.Mood.VALUE_24H and first.c_level is models.ExtraLevel.HIGH


def test_binary_copy_enums_take_plain_strings(conn: Conn) -> None:
    """Enums go as text: a plain str label works as well as the StrEnum member."""
    db = dbtx.Conn.of(conn)
    row = msgspec.structs.replace(NULLS, c_mood="so-so", c_level="high")
    assert queries.copy_everything(db, [row]) == 1
    (stored,) = queries.list_everything(db)
    assert (stored.c_mood, stored.c_level) == (models.Mood.SO_SO, models.ExtraLevel.HIGH)


@pytest.mark.parametrize(
    "doc",
    [
        {"emoji": "😀", "ü": ["ß", {"x": None}], "n": [1, -2.5, 0.125], "t": True},
        [[[[]]], {}, "", "\\", '"'],
        "just a string",
        0,
        False,
    ],
    ids=["object", "nested-arrays", "string", "number", "boolean"],
)
def test_binary_copy_jsonb_values(conn: Conn, doc: Any) -> None:
    """jsonb and json take any JSON value, unicode and deep nesting included, encoded by msgspec."""
    db = dbtx.Conn.of(conn)
    row = msgspec.structs.replace(NULLS, c_jsonb=doc, c_json=doc)
    assert queries.copy_everything(db, [row]) == 1
    (stored,) = queries.list_everything(db)
    assert (stored.c_jsonb, stored.c_json) == (doc, doc)


def test_binary_copy_jsonb_accepts_wrappers_and_structs(conn: Conn) -> None:
    """A value already wrapped in Jsonb, or a msgspec Struct, is encoded like a plain one."""

    class Point(msgspec.Struct):
        x: int
        y: int

    db = dbtx.Conn.of(conn)
    rows = [
        msgspec.structs.replace(NULLS, c_jsonb=Jsonb({"wrapped": ["é"]})),
        msgspec.structs.replace(NULLS, c_jsonb=Point(1, 2)),
    ]
    assert queries.copy_everything(db, rows) == 2
    assert [r.c_jsonb for r in queries.list_everything(db)] == [
        {"wrapped": ["é"]},
        {"x": 1, "y": 2},
    ]


def test_text_copy_fallback(conn: Conn) -> None:
    """A query with a type psycopg cannot write in binary stays a text COPY, json wrapped."""
    db = dbtx.Conn.of(conn)
    assert queries.COPY_EVERYTHING_AS_TEXT.rstrip().endswith("FROM STDIN")
    assert not hasattr(queries, "COPY_EVERYTHING_AS_TEXT_TYPES")
    at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    row = queries.CopyEverythingAsTextParams(
        c_smallint=1,
        c_integer=2,
        c_bigint=3,
        c_real=4.5,
        c_double=5.5,
        c_numeric=Decimal("6.75"),
        c_bool=True,
        c_text="text",
        c_money="12.50",
        c_macaddr="08:00:2b:01:02:03",
        c_int4range=Range(1, 10),
        c_tstzrange=Range(at, None),
        c_mood_array=[models.Mood.HAPPY, models.Mood.SAD],
        c_jsonb={"ü": [1]},
        c_timestamptz=at,
    )
    assert queries.copy_everything_as_text(db, [row, row]) == 2
    stored = queries.list_everything(db)[0]
    assert (stored.c_money, stored.c_macaddr, stored.c_int4range) == (
        "$12.50",
        "08:00:2b:01:02:03",
        Range(1, 10),
    )
    assert (stored.c_mood_array, stored.c_jsonb, stored.c_timestamptz) == (
        [models.Mood.HAPPY, models.Mood.SAD],
        {"ü": [1]},
        at,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"c_timestamptz": datetime(2024, 1, 2, 3, 4, 5)},
            'CopyEverything: column "c_timestamptz" (timestamptz) got a naive datetime: '
            "pass an aware datetime, e.g. datetime.now(timezone.utc)",
        ),
        (
            {"c_timestamp": datetime(2024, 1, 2, tzinfo=UTC)},
            'CopyEverything: column "c_timestamp" (timestamp) got an aware datetime, but the '
            "column has no time zone: pass a naive datetime, "
            "e.g. value.astimezone(timezone.utc).replace(tzinfo=None)",
        ),
        (
            {"c_timetz": time(8, 0)},
            'CopyEverything: column "c_timetz" (timetz) got a naive time: '
            "pass one with a fixed offset, e.g. tzinfo=timezone.utc",
        ),
        (
            {"c_integer": 2**31},
            'CopyEverything: column "c_integer" (int4) cannot take this int: '
            "'i' format requires -2147483648 <= number <= 2147483647",
        ),
        (
            {"c_smallint": -(2**15) - 1},
            'CopyEverything: column "c_smallint" (int2) cannot take this int: '
            "'h' format requires -32768 <= number <= 32767",
        ),
        (
            {"c_real": 1e300},
            'CopyEverything: column "c_real" (float4) cannot take this float: '
            "float too large to pack with f format",
        ),
        (
            {"c_uuid": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"},
            'CopyEverything: column "c_uuid" (uuid) cannot take this str: '
            "'str' object has no attribute 'int'",
        ),
        (
            {"c_int_matrix": [1, 2**40]},
            'CopyEverything: column "c_int_matrix" (int4[]) cannot take this list: '
            "'i' format requires -2147483648 <= number <= 2147483647",
        ),
    ],
    ids=[
        "naive-timestamptz",
        "aware-timestamp",
        "naive-timetz",
        "int4",
        "int2",
        "float4",
        "uuid",
        "int4-array",
    ],
)
def test_value_the_column_cannot_take(conn: Conn, change: dict[str, Any], message: str) -> None:
    """The error names the query, the column, its type and the fix; no row is written."""
    db = dbtx.Conn.of(conn)
    bad = msgspec.structs.replace(NULLS, **change)
    with pytest.raises(CopyDataError) as caught:
        queries.copy_everything(db, [NULLS, bad, NULLS])
    assert str(caught.value) == message
    assert isinstance(caught.value, psycopg.DataError)
    assert caught.value.__cause__ is not None
    assert _count(conn) == 0


def _rows_then(bad: queries.CopyEverythingParams, good: int = 5000) -> Iterator[Any]:
    """*good* valid rows (several COPY buffers' worth, so some reach the server), then *bad*."""
    for i in range(good):
        yield msgspec.structs.replace(NULLS, c_integer=i)
    yield bad


NAIVE = msgspec.structs.replace(NULLS, c_timestamptz=datetime(2024, 1, 2))


def test_no_row_lands_when_copy_fails_autocommit(conn: Conn) -> None:
    """In autocommit mode the failed COPY writes nothing, though earlier rows reached the server."""
    db = dbtx.Conn.of(conn)
    with pytest.raises(CopyDataError, match="c_timestamptz"):
        queries.copy_everything(db, _rows_then(NAIVE))
    assert _count(conn) == 0
    assert queries.copy_everything(db, [NULLS]) == 1  # the connection is usable


def test_no_row_lands_when_copy_fails_in_transaction(conn: Conn) -> None:
    """Inside a transaction the failed COPY aborts it: nothing of the transaction is kept."""
    db = dbtx.Conn.of(conn)

    def copy_twice() -> None:
        with conn.transaction():
            assert queries.copy_everything(db, [NULLS]) == 1
            queries.copy_everything(db, _rows_then(NAIVE))

    with pytest.raises(CopyDataError, match="c_timestamptz"):
        copy_twice()
    assert _count(conn) == 0


def test_error_from_the_rows_iterable_is_left_alone(conn: Conn) -> None:
    """An exception raised by the rows' iterator propagates as it is, and nothing is written."""

    def rows() -> Iterator[queries.CopyEverythingParams]:
        yield NULLS
        raise LookupError("no more rows")

    with pytest.raises(LookupError, match="no more rows"):
        queries.copy_everything(dbtx.Conn.of(conn), rows())
    assert _count(conn) == 0


async def _async_copy(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        await models.register_types_async(conn)
        db = dbtx.AsyncConn.of(conn)
        assert await queries_async.copy_everything(db, [EVERY, NULLS]) == 2
        first, second = await queries_async.list_everything(db)
        assert (_stored(first), _stored(second)) == (_expected(EVERY), _expected(NULLS))
        await conn.execute("TRUNCATE everything")
        with pytest.raises(CopyDataError, match=r"naive datetime: pass an aware datetime"):
            await queries_async.copy_everything(db, _rows_then(NAIVE))

        async def copy_twice() -> None:
            async with conn.transaction():
                assert await queries_async.copy_everything(db, [NULLS]) == 1
                await queries_async.copy_everything(db, _rows_then(NAIVE))

        with pytest.raises(CopyDataError, match="naive datetime"):
            await copy_twice()
        cursor = await conn.execute("SELECT count(*) FROM everything")
        assert await cursor.fetchone() == (0,)


def test_async_binary_copy(url: str) -> None:
    """The async function copies every type in binary and rejects bad values the same way."""
    asyncio.run(_async_copy(url))
