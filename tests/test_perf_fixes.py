"""Runtime fast paths: timestamptz without `zoneinfo` on UTC servers, BEGIN options skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import pq, sql

from codex_db import AsyncDatabaseWs, Database, DatabaseWs, IsolationLevel
from codex_db import transaction as transaction_module
from codex_db._pool import configure_connection
from codex_db._timestamptz import UTC_ZONES, is_utc_zone, register_utc_timestamptz
from codex_db.dbtx import Conn, scalar
from codex_db.testing import TestServer

INSTANT = datetime(2024, 6, 1, 10, 34, 56, 789000, tzinfo=UTC)
STAMP = "SELECT '2024-06-01 12:34:56.789+02'::timestamptz"
STAMPS = (
    "SELECT '2024-06-01 12:34:56.789+02'::timestamptz,"
    " ARRAY['2024-01-01 00:00+00'::timestamptz, NULL],"
    " '0001-01-01 00:00:00+00'::timestamptz, '9999-12-31 23:59:59.999999+00'::timestamptz"
)
PARIS = ZoneInfo("Europe/Paris")
FORMATS = (pq.Format.TEXT, pq.Format.BINARY)


def _row(*cells: Any) -> tuple[Any, ...]:
    return cells


def _with_zone(pg_server: TestServer, make: Callable[[], str], zone: str) -> str:
    """A new migrated database whose ``timezone`` is *zone* (a database-level setting)."""
    url = make()
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    assert isinstance(name, str)
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                sql.Identifier(name), sql.Literal(zone)
            )
        )
    return url


@pytest.fixture
def utc_url(pg_server: TestServer, migrated_database: Callable[[], str]) -> str:
    return _with_zone(pg_server, migrated_database, "Etc/UTC")


@pytest.fixture
def paris_url(pg_server: TestServer, migrated_database: Callable[[], str]) -> str:
    return _with_zone(pg_server, migrated_database, "Europe/Paris")


@pytest.fixture
def utc_conn(utc_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(utc_url, autocommit=True) as conn:
        configure_connection(conn)
        yield conn


def test_utc_aliases() -> None:
    for name in ("UTC", "Etc/UTC", "etc/utc", "GMT", "Zulu", "Etc/Universal", "GMT0", "GMT-0"):
        assert is_utc_zone(name), name
    assert not is_utc_zone(None)
    for other in ("", "Europe/Paris", "Etc/GMT+1", "America/New_York", "Europe/London"):
        assert not is_utc_zone(other), other
    assert "etc/greenwich" in UTC_ZONES


@pytest.mark.parametrize("zone", ["Etc/UTC", "UTC", "GMT", "Etc/Zulu", "Universal"])
def test_utc_server_gives_timezone_utc(utc_url: str, zone: str) -> None:
    with psycopg.connect(utc_url, autocommit=True, options=f"-c timezone={zone}") as conn:
        assert conn.info.parameter_status("TimeZone") == zone
        configure_connection(conn)
        for binary in (False, True):
            row = conn.cursor(binary=binary).execute(STAMPS).fetchone()
            assert row is not None
            first, array, low, high = row
            assert first == INSTANT
            assert first.tzinfo is UTC
            assert array == [datetime(2024, 1, 1, tzinfo=UTC), None]
            assert array[0].tzinfo is UTC
            assert low == datetime(1, 1, 1, tzinfo=UTC)
            assert high == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_utc_server_through_the_adapter_and_clients(utc_url: str, utc_conn: Any) -> None:
    assert utc_conn.info.parameter_status("TimeZone") == "Etc/UTC"
    value = Conn.of(utc_conn).fetch_one(STAMP, (), scalar)
    assert value == INSTANT and value.tzinfo is UTC
    streamed = list(Conn.of(utc_conn).stream(STAMP, (), scalar))
    assert streamed == [INSTANT] and streamed[0].tzinfo is UTC

    with Database.from_url(utc_url, max_size=2) as db:
        value = db.fetch_one(STAMP, (), scalar)
        assert value == INSTANT and value.tzinfo is UTC
    with DatabaseWs.from_url(utc_url, max_size=2) as db_ws, db_ws.transaction() as tx:
        value = tx.fetch_one(STAMP, (), scalar)
        assert value == INSTANT and value.tzinfo is UTC

    async def run() -> datetime | None:
        async with AsyncDatabaseWs.from_url(utc_url, max_size=2) as client:
            result: datetime | None = await client.fetch_one(STAMP, (), scalar)
            return result

    value = asyncio.run(run())
    assert value is not None
    assert value == INSTANT and value.tzinfo is UTC


def test_session_zone_change_falls_back_to_zoneinfo(utc_conn: Any) -> None:
    """Loaders check the zone when they are created: a ``SET timezone`` later still converts."""
    utc_conn.execute("SET timezone = 'Europe/Paris'")
    try:
        for binary in (False, True):
            value = utc_conn.cursor(binary=binary).execute(STAMP).fetchone()[0]
            assert value == INSTANT
            assert value.tzinfo == PARIS
            assert value.utcoffset() == timedelta(hours=2)
    finally:
        utc_conn.execute("RESET timezone")


def test_registration_is_idempotent(utc_conn: Any) -> None:
    loaders = [utc_conn.adapters.get_loader(1184, fmt) for fmt in FORMATS]
    assert register_utc_timestamptz(utc_conn)
    assert [utc_conn.adapters.get_loader(1184, fmt) for fmt in FORMATS] == loaders


def test_non_utc_server_keeps_zoneinfo(paris_url: str) -> None:
    with psycopg.connect(paris_url, autocommit=True) as conn:
        assert conn.info.parameter_status("TimeZone") == "Europe/Paris"
        before = [conn.adapters.get_loader(1184, fmt) for fmt in FORMATS]
        configure_connection(conn)
        assert not register_utc_timestamptz(conn)
        assert [conn.adapters.get_loader(1184, fmt) for fmt in FORMATS] == before
        value = Conn.of(conn).fetch_one(STAMP, (), scalar)
        assert value == INSTANT
        assert value.tzinfo == PARIS
        assert value.utcoffset() == timedelta(hours=2)
        for binary in (False, True):
            # (9999-12-31 UTC is past year 9999 in Paris: psycopg refuses it there.)
            row = conn.cursor(binary=binary).execute(STAMPS.rsplit(",", 1)[0]).fetchone()
            assert row is not None
            assert row[0] == INSTANT and row[0].tzinfo == PARIS
            assert row[1][0] == datetime(2024, 1, 1, tzinfo=UTC)
            assert row[1][0].tzinfo == PARIS


def test_non_iso_datestyle_is_left_alone(utc_url: str) -> None:
    with psycopg.connect(utc_url, autocommit=True, options="-c datestyle=German") as conn:
        before = [conn.adapters.get_loader(1184, fmt) for fmt in FORMATS]
        assert not register_utc_timestamptz(conn)
        assert [conn.adapters.get_loader(1184, fmt) for fmt in FORMATS] == before


def test_isolated_db_is_configured(isolated_db: DatabaseWs) -> None:
    """The pinned test connection goes through `configure_connection` too."""
    with isolated_db.connection() as conn:
        zone = conn.info.parameter_status("TimeZone")
    value = isolated_db.fetch_one(STAMP, (), scalar)
    assert value == INSTANT
    if is_utc_zone(zone):
        assert value.tzinfo is UTC


def test_options_without_begin_options_skip_the_attributes(
    monkeypatch: pytest.MonkeyPatch, migrated_database: Callable[[], str]
) -> None:
    calls: list[tuple[Any, ...]] = []
    real = transaction_module._set_begin_options

    def recording(conn: Any, *values: Any) -> None:
        calls.append(values)
        real(conn, *values)

    monkeypatch.setattr(transaction_module, "_set_begin_options", recording)
    with DatabaseWs.from_url(migrated_database(), max_size=1) as db_ws:
        with db_ws.transaction() as tx:
            assert tx.fetch_one("SELECT 1", (), scalar) == 1
        with db_ws.transaction(statement_timeout=5) as tx:
            assert tx.fetch_one("SHOW statement_timeout", (), scalar) == "5s"
        assert calls == []
        with db_ws.transaction(isolation_level=IsolationLevel.SERIALIZABLE) as tx:
            level = tx.fetch_one("SHOW transaction_isolation", (), scalar)
            assert level == "serializable"
        assert calls == [(IsolationLevel.SERIALIZABLE, None, None), (None, None, None)]
        with db_ws.transaction(statement_timeout=5) as tx:
            assert tx.fetch_one("SHOW transaction_isolation", (), scalar) == "read committed"
        assert len(calls) == 2


@pytest.mark.pooler
def test_utc_through_a_transaction_pooler(
    pg_server: TestServer, pooled_database: Callable[[], str]
) -> None:
    """Behind PgBouncer (transaction mode) too: no session state, the zone PgBouncer reports."""
    url = _with_zone(pg_server, pooled_database, "Etc/UTC")
    with DatabaseWs.from_url(url, pooler="transaction", max_size=4) as db_ws:
        for _ in range(3):
            value = db_ws.fetch_one(STAMP, (), scalar)
            assert value == INSTANT
            assert value is not None and value.tzinfo is UTC
        with db_ws.transaction() as tx:
            assert tx.fetch_one("SHOW timezone", (), scalar) == "Etc/UTC"
            value = tx.fetch_one(STAMP, (), scalar)
            assert value is not None and value.tzinfo is UTC
