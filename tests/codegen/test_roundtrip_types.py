"""Round trip of every mapped type through the generated code of ``cases/types``, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Address
from pathlib import Path
from uuid import UUID, uuid4

import msgspec
import psycopg
import pytest
from psycopg.types.range import Range

from codex_db import dbtx
from tests.codegen.cases.types.expected import models, queries, queries_async

SCHEMA = (Path(__file__).parent / "cases" / "types" / "schema.sql").read_text()

PARAMS = queries.InsertEverythingParams(
    c_smallint=-3,
    c_integer=2_000_000_000,
    c_bigint=9_000_000_000_000,
    c_real=1.5,
    c_double=2.25,
    c_numeric=Decimal("1234.50"),
    c_money="12.50",
    c_bool=True,
    c_text="hello %s $1 ::text",
    c_varchar="vc",
    c_char="abc",
    c_bytea=b"\x00\xff",
    c_uuid=uuid4(),
    c_date=date(2024, 2, 29),
    c_time=time(12, 30, 1),
    c_timetz=time(8, 0, tzinfo=timezone(timedelta(hours=2))),
    c_timestamp=datetime(2024, 1, 2, 3, 4, 5),
    c_timestamptz=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    c_interval=timedelta(days=1, seconds=5),
    c_inet=IPv6Address("::1"),
    c_cidr=IPv4Network("10.0.0.0/8"),
    c_macaddr="08:00:2b:01:02:03",
    c_json={"plain": [1, 2]},
    c_jsonb={"a": {"b": [True, None]}},
    c_int4range=Range(1, 10),
    c_tstzrange=Range(datetime(2024, 1, 1, tzinfo=UTC), None),
    c_mood=models.Mood.SO_SO,
    c_level=models.ExtraLevel.HIGH,
    c_text_array=["x", "y"],
    c_int_matrix=[[1, 2], [3, 4]],
    c_mood_array=[models.Mood.HAPPY, models.Mood.VALUE_24H],
    c_uuid_array=[uuid4(), uuid4()],
)

EXPECTED_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": int,
    "c_smallint": int,
    "c_real": float,
    "c_numeric": Decimal,
    "c_money": str,
    "c_bool": bool,
    "c_bytea": bytes,
    "c_uuid": UUID,
    "c_date": date,
    "c_time": time,
    "c_timetz": time,
    "c_timestamp": datetime,
    "c_timestamptz": datetime,
    "c_interval": timedelta,
    "c_inet": IPv6Address,
    "c_cidr": IPv4Network,
    "c_json": dict,
    "c_jsonb": dict,
    "c_int4range": Range,
    "c_mood": models.Mood,
    "c_level": models.ExtraLevel,
    "c_mood_array": list,
}


def _check_row(row: models.Everything | None) -> None:
    assert isinstance(row, models.Everything)
    for name, kind in EXPECTED_TYPES.items():
        assert isinstance(getattr(row, name), kind), name
    assert row.c_int_matrix == [[1, 2], [3, 4]]
    assert row.c_mood_array == [models.Mood.HAPPY, models.Mood.VALUE_24H]
    assert all(isinstance(m, models.Mood) for m in row.c_mood_array or [])
    assert row.c_jsonb == {"a": {"b": [True, None]}}
    assert row.c_timestamptz == PARAMS.c_timestamptz
    assert row.c_numeric == PARAMS.c_numeric
    assert row.c_text == PARAMS.c_text
    assert row.c_uuid_array == PARAMS.c_uuid_array


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(url, autocommit=True)
    dbtx.configure(conn)
    models.register_types(conn)
    conn.execute("SET lc_monetary TO 'C'")
    return conn


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


def test_every_type_round_trips_sync(url: str) -> None:
    """Inserted values come back with the Python types the models declare."""
    with _connect(url) as conn:
        db = dbtx.Conn.of(conn)
        new_id = queries.insert_everything(db, PARAMS)
        assert isinstance(new_id, int)
        _check_row(queries.get_everything(db, id=new_id))
        rows = queries.list_everything(db)
        assert len(rows) == 1
        _check_row(rows[0])


def test_null_array_elements(url: str) -> None:
    """Array elements may be NULL: results are typed ``list[T | None]`` and hold None."""
    with _connect(url) as conn:
        db = dbtx.Conn.of(conn)
        new_id = queries.insert_everything(db, PARAMS)
        db.execute(
            "UPDATE everything SET c_text_array = ARRAY['fragile', NULL],"
            " c_int_matrix = '{{1,NULL},{NULL,4}}' WHERE id = $1",
            (new_id,),
        )
        matrix = queries.matrix(db, id=new_id)
        assert matrix == queries.MatrixRow([[1, None], [None, 4]], ["fragile", None])
        row = queries.get_everything(db, id=new_id)
        assert row is not None and row.c_text_array == ["fragile", None]


def test_enums_json_and_arrays_sync(url: str) -> None:
    """Enum (array) params and results, json params wrapped, NULL json stays NULL."""
    with _connect(url) as conn:
        db = dbtx.Conn.of(conn)
        new_id = queries.insert_everything(db, PARAMS)
        assert new_id is not None
        found = queries.find_by_mood(db, mood=None, levels=[models.ExtraLevel.HIGH])
        assert [(r.id, r.c_mood, r.c_level) for r in found] == [
            (new_id, models.Mood.SO_SO, models.ExtraLevel.HIGH)
        ]
        assert isinstance(found[0].c_level, models.ExtraLevel)
        assert queries.mood_array(db, id=new_id) == [models.Mood.HAPPY, models.Mood.VALUE_24H]
        assert queries.set_jsonb(db, doc=[1, "two"], plain=None, id=new_id) == 1
        row = queries.get_everything(db, id=new_id)
        assert row is not None and row.c_jsonb == [1, "two"] and row.c_json is None
        assert queries.echo_jsonb(db, doc={"k": msgspec.Raw(b"1")}) == {"k": 1}
        matrix = queries.matrix(db, id=new_id)
        assert matrix == queries.MatrixRow([[1, 2], [3, 4]], ["x", "y"])


def test_nulls_come_back_as_none_sync(url: str) -> None:
    """Nullable columns inserted as None are None, not errors."""
    nulls = msgspec.structs.replace(
        PARAMS,
        c_money=None,
        c_uuid=None,
        c_json=None,
        c_jsonb=None,
        c_mood=None,
        c_mood_array=None,
        c_int_matrix=None,
        c_inet=None,
    )
    with _connect(url) as conn:
        db = dbtx.Conn.of(conn)
        new_id = queries.insert_everything(db, nulls)
        assert new_id is not None
        row = queries.get_everything(db, id=new_id)
        assert row is not None
        assert (row.c_money, row.c_uuid, row.c_json, row.c_jsonb, row.c_mood) == (
            None,
            None,
            None,
            None,
            None,
        )
        assert (row.c_mood_array, row.c_int_matrix, row.c_inet) == (None, None, None)


async def _async_round_trip(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        dbtx.configure(conn)
        await models.register_types_async(conn)
        db = dbtx.AsyncConn.of(conn)
        new_id = await queries_async.insert_everything(db, PARAMS)
        assert new_id is not None
        _check_row(await queries_async.get_everything(db, id=new_id))
        rows = await queries_async.list_everything(db)
        _check_row(rows[0])
        found = await queries_async.find_by_mood(db, mood=models.Mood.SO_SO, levels=[])
        assert [r.c_mood for r in found] == [models.Mood.SO_SO]
        assert await queries_async.set_jsonb(db, doc={"x": 1}, plain={"y": 2}, id=new_id) == 1
        assert await queries_async.mood_array(db, id=new_id) == [
            models.Mood.HAPPY,
            models.Mood.VALUE_24H,
        ]


def test_every_type_round_trips_async(url: str) -> None:
    """The async module returns the same types as the sync one."""
    asyncio.run(_async_round_trip(url))
