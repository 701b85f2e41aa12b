"""The DBTX adapters on a real PostgreSQL: caching, the shared cursor, errors, COPY, streaming."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import psycopg
import pytest
from psycopg.types.json import Jsonb

from codex_db import CopyDataError, Database, dbtx

SCHEMA = """
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, doc jsonb);
INSERT INTO items SELECT g, 'item ' || g, NULL FROM generate_series(1, 50) g;
"""


class Item(msgspec.Struct, frozen=True):
    id: int
    name: str
    doc: Any


class Doc(msgspec.Struct, frozen=True):
    title: str


@pytest.fixture
def url(fresh_database: Callable[..., str]) -> str:
    return fresh_database(SCHEMA)


@pytest.fixture(params=["autocommit", "transaction"])
def conn(request: pytest.FixtureRequest, url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection in autocommit mode, or inside a transaction rolled back at the end."""
    with psycopg.connect(url, autocommit=request.param == "autocommit") as connection:
        dbtx.configure(connection)
        yield connection


def test_of_caches_one_adapter_per_connection(conn: psycopg.Connection[Any], url: str) -> None:
    """Conn.of returns the same adapter (and cursor) for a connection, another for another."""
    adapter = dbtx.Conn.of(conn)
    assert dbtx.Conn.of(conn) is adapter
    with psycopg.connect(url) as other:
        assert dbtx.Conn.of(other) is not adapter
    as_protocol: dbtx.DBTX = adapter  # mypy checks that Conn implements DBTX
    assert as_protocol is adapter


def test_fetch_one_and_all(conn: psycopg.Connection[Any]) -> None:
    """Rows are built with make(*cells); a missing row is None; $N placeholders work."""
    db = dbtx.Conn.of(conn)
    assert db.fetch_one("SELECT id, name, doc FROM items WHERE id = $1", (3,), Item) == Item(
        3, "item 3", None
    )
    assert db.fetch_one("SELECT id, name, doc FROM items WHERE id = $1", (999,), Item) is None
    names = db.fetch_all("SELECT name FROM items WHERE id <= $1 ORDER BY id", (2,), dbtx.scalar)
    assert names == ["item 1", "item 2"]
    assert db.fetch_all("SELECT name FROM items WHERE false", (), dbtx.scalar) == []
    assert db.fetch_one("SELECT '50%' || $1::text", ("!",), dbtx.scalar) == "50%!"


def test_unconsumed_result_does_not_leak(conn: psycopg.Connection[Any]) -> None:
    """fetch_one leaves rows unread; the next call on the shared cursor is unaffected."""
    db = dbtx.Conn.of(conn)
    assert db.fetch_one("SELECT id FROM items ORDER BY id", (), dbtx.scalar) == 1
    assert db.fetch_all("SELECT id FROM items WHERE id > $1 ORDER BY id", (48,), dbtx.scalar) == [
        49,
        50,
    ]


def test_execute_and_execute_result(conn: psycopg.Connection[Any]) -> None:
    """execute returns the row count; execute_result also the command tag."""
    db = dbtx.Conn.of(conn)
    assert db.execute("UPDATE items SET name = name || '!' WHERE id <= $1", (5,)) == 5
    result = db.execute_result("DELETE FROM items WHERE id > $1", (45,))
    assert result == dbtx.ExecResult(5, "DELETE 5")


def test_copy_rows(conn: psycopg.Connection[Any]) -> None:
    """COPY FROM STDIN writes rows (json wrapped) and returns their count."""
    db = dbtx.Conn.of(conn)
    rows = [(100, "copied", Jsonb({"a": 1})), (101, 'quote " tab\t', None)]
    assert db.copy_rows('COPY "items" ("id", "name", "doc") FROM STDIN', rows) == 2
    got = db.fetch_all("SELECT id, name, doc FROM items WHERE id >= 100 ORDER BY id", (), Item)
    assert got == [Item(100, "copied", {"a": 1}), Item(101, 'quote " tab\t', None)]


def test_copy_rows_binary(conn: psycopg.Connection[Any]) -> None:
    """With types, a hand-written binary COPY dumps by column type; jsonb needs no wrapper."""
    db = dbtx.Conn.of(conn)
    rows = [(100, "binary", {"ü": [1]}), (101, "wrapped", Jsonb(["x"])), (102, "null", None)]
    statement = "COPY items (id, name, doc) FROM STDIN (FORMAT BINARY)"
    assert db.copy_rows(statement, rows, types=["int4", "text", "jsonb"]) == 3
    got = db.fetch_all("SELECT id, name, doc FROM items WHERE id >= 100 ORDER BY id", (), Item)
    assert got == [
        Item(100, "binary", {"ü": [1]}),
        Item(101, "wrapped", ["x"]),
        Item(102, "null", None),
    ]


def test_copy_rows_binary_error_names_the_column(conn: psycopg.Connection[Any]) -> None:
    """A value the column cannot take names the COPY's table and column; nothing is written."""
    db = dbtx.Conn.of(conn)
    statement = "COPY items (id, name) FROM STDIN (FORMAT BINARY)"
    with pytest.raises(CopyDataError) as caught:
        db.copy_rows(statement, [(100, "ok"), (101, b"bytes")], types=["int4", "text"])
    assert str(caught.value).startswith('COPY items: column "name" (text) cannot take this bytes: ')
    if conn.autocommit:
        assert db.fetch_one("SELECT count(*) FROM items WHERE id >= 100", (), dbtx.scalar) == 0


def test_stream_and_early_close(conn: psycopg.Connection[Any]) -> None:
    """stream yields rows lazily; closing it early leaves the connection usable."""
    db = dbtx.Conn.of(conn)
    stream = db.stream("SELECT id FROM items ORDER BY id", (), dbtx.scalar)
    assert [next(stream), next(stream)] == [1, 2]
    stream.close()
    assert db.fetch_one("SELECT count(*) FROM items", (), dbtx.scalar) == 50
    assert sum(db.stream("SELECT id FROM items", (), dbtx.scalar)) == sum(range(1, 51))


def test_json_uses_msgspec(conn: psycopg.Connection[Any]) -> None:
    """configure() decodes json with msgspec and encodes Structs in Jsonb parameters."""
    db = dbtx.Conn.of(conn)
    assert db.execute("UPDATE items SET doc = $1 WHERE id = 1", (dbtx.maybe_jsonb(Doc("hi")),)) == 1
    assert db.execute("UPDATE items SET doc = $1 WHERE id = 2", (dbtx.maybe_jsonb(None),)) == 1
    assert db.fetch_one("SELECT doc FROM items WHERE id = 1", (), dbtx.scalar) == {"title": "hi"}
    assert db.fetch_one("SELECT doc IS NULL FROM items WHERE id = 2", (), dbtx.scalar) is True
    assert db.fetch_one("SELECT $1::json", (dbtx.maybe_json([1, 2]),), dbtx.scalar) == [1, 2]


def test_errors_propagate_unchanged_in_transaction(url: str) -> None:
    """A failed statement raises psycopg's own error; the adapter works after rollback."""
    with psycopg.connect(url) as conn:
        db = dbtx.Conn.of(conn)
        with pytest.raises(psycopg.errors.UndefinedTable):
            db.fetch_one("SELECT * FROM nope", (), dbtx.scalar)
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            db.execute("SELECT 1", ())
        conn.rollback()
        assert db.fetch_one("SELECT 1", (), dbtx.scalar) == 1
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute("INSERT INTO items (id, name) VALUES ($1, $2)", (1, "dup"))
        conn.rollback()
        assert dbtx.Conn.of(conn) is db


def test_errors_in_autocommit_leave_the_adapter_usable(url: str) -> None:
    """In autocommit mode the next statement after an error just works."""
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        with pytest.raises(psycopg.errors.SyntaxError):
            db.execute("SELEC 1", ())
        assert db.fetch_one("SELECT 2", (), dbtx.scalar) == 2


@pytest.mark.parametrize(("threshold", "prepared"), [(0, True), (None, False)])
def test_preparation_follows_prepare_threshold(
    url: str, threshold: int | None, prepared: bool
) -> None:
    """The connection's prepare_threshold decides; None (PgBouncer) never prepares."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=threshold) as conn:
        db = dbtx.Conn.of(conn)
        db.fetch_one("SELECT name FROM items WHERE id = $1", (1,), dbtx.scalar)
        count = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert count is not None and (count[0] > 0) is prepared


_BY_ID = "SELECT id, name, doc FROM items WHERE id = $1"
_PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s"


def _prepared(conn: psycopg.Connection[Any], query: str) -> int:
    """How many prepared statements the server holds for *query* on *conn*."""
    row = conn.execute(_PREPARED, (query,), prepare=False).fetchone()
    assert row is not None
    return int(row[0])


def test_calls_with_parameters_build_what_the_cursor_builds(
    conn: psycopg.Connection[Any],
) -> None:
    """fetch_one/fetch_all with parameters (the lean path) load rows as psycopg's cursor does:
    jsonb through msgspec, NULLs, a NULL parameter, several rows."""
    db = dbtx.Conn.of(conn)
    db.execute("UPDATE items SET doc = $1 WHERE id = $2", (Jsonb({"k": [1, "x"]}), 7))
    cursor = psycopg.RawCursor(conn)
    for query, params in [
        (_BY_ID, (7,)),
        (_BY_ID, (8,)),
        ("SELECT id, name, doc FROM items WHERE id <= $1 ORDER BY id", (3,)),
        ("SELECT $1::text IS NULL, $2::int", (None, 5)),
    ]:
        expected = cursor.execute(query, params).fetchall()
        assert db.fetch_all(query, params, lambda *cells: cells) == expected
        assert db.fetch_one(query, params, lambda *cells: cells) == expected[0]
    assert db.fetch_one(_BY_ID, (7,), Item) == Item(7, "item 7", {"k": [1, "x"]})


def test_errors_with_parameters_are_the_cursors(url: str) -> None:
    """Errors on the lean path: psycopg's classes with their diagnostics; a statement without
    rows raises the cursor's ProgrammingError; the transaction state follows the server."""
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        insert = "INSERT INTO items (id, name) VALUES ($1, $2)"
        with pytest.raises(psycopg.errors.UniqueViolation) as caught:
            db.fetch_one(insert + " RETURNING id", (1, "dup"), dbtx.scalar)
        assert caught.value.diag.constraint_name == "items_pkey"
        with pytest.raises(psycopg.ProgrammingError) as no_rows:
            db.fetch_one(insert, (900, "new"), dbtx.scalar)
        assert str(no_rows.value) == (
            "the last operation didn't produce records (command status: INSERT 0 1)"
        )
        with conn.transaction(force_rollback=True):
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                db.fetch_one("SELECT $1::int", ("x",), dbtx.scalar)
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
            with pytest.raises(psycopg.errors.InFailedSqlTransaction):
                db.fetch_all(_BY_ID, (1,), Item)
        assert db.fetch_one(_BY_ID, (900,), Item) == Item(900, "new", None)


def test_a_connection_not_in_autocommit_still_begins_a_transaction(url: str) -> None:
    """On a connection without autocommit a call begins the transaction, as psycopg's does."""
    with psycopg.connect(url) as conn:
        db = dbtx.Conn.of(conn)
        assert db.fetch_one(_BY_ID, (2,), Item) == Item(2, "item 2", None)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_rows_are_loaded_by_their_result_s_column_types(url: str) -> None:
    """The same query, unprepared, after its column changed type: loaded by the new type."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        db = dbtx.Conn.of(conn)
        query = "SELECT doc FROM items WHERE id = $1"
        db.execute("UPDATE items SET doc = '{\"n\": 1}' WHERE id = $1", (5,))
        assert db.fetch_one(query, (5,), dbtx.scalar) == {"n": 1}
        conn.execute("ALTER TABLE items ALTER COLUMN doc TYPE text")
        assert db.fetch_one(query, (5,), dbtx.scalar) == '{"n": 1}'


def test_calls_share_the_connections_prepared_statements(url: str) -> None:
    """The lean path prepares through psycopg's own cache: one statement for the adapter and
    the connection's cursors, prepared anew after psycopg's DEALLOCATE ALL (sent after a
    ROLLBACK it sees), evicted past prepared_max, and never for an optional filter."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=0) as conn:
        db = dbtx.Conn.of(conn)
        assert db.fetch_one(_BY_ID, (1,), Item) is not None
        assert _prepared(conn, _BY_ID) == 1
        psycopg.RawCursor(conn).execute(_BY_ID, (2,)).fetchone()  # psycopg's: the same one
        assert _prepared(conn, _BY_ID) == 1
        conn.execute("BEGIN")
        conn.execute("ROLLBACK")  # psycopg clears its cache: DEALLOCATE ALL
        assert _prepared(conn, _BY_ID) == 0
        with conn.transaction():
            assert db.fetch_one(_BY_ID, (3,), Item) == Item(3, "item 3", None)
        assert _prepared(conn, _BY_ID) == 1
        conn.prepared_max = 2
        for k in range(5):
            assert db.fetch_one(f"SELECT $1::int + {k}", (1,), dbtx.scalar) == 1 + k
        row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert row is not None and row[0] <= 3  # two cached, at most one not yet evicted
        optional = "SELECT count(*) FROM items WHERE ($1::int IS NULL OR id = $1)"
        assert db.fetch_all(optional, (None,), dbtx.scalar) == [50]
        assert _prepared(conn, optional) == 0


def test_adapters_registered_later_are_seen_after_reset(url: str) -> None:
    """The held cursor snapshots loaders; configure()/reset() make a fresh adapter see new ones."""
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        assert db.fetch_one("SELECT '{\"a\": 1}'::jsonb", (), dbtx.scalar) == {"a": 1}
        dbtx.configure(conn)
        fresh = dbtx.Conn.of(conn)
        assert fresh is not db
        assert dbtx.Conn.of(conn) is fresh
        dbtx.reset(conn)
        dbtx.reset(conn)
        assert dbtx.Conn.of(conn) is not fresh


def test_embed_helper() -> None:
    """embed() builds the row unless every cell is NULL."""
    assert dbtx.embed(Item, (1, "a", None)) == Item(1, "a", None)
    assert dbtx.embed(Item, (None, None, None)) is None


async def _async_flow(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        dbtx.configure(conn)
        db = dbtx.AsyncConn.of(conn)
        assert dbtx.AsyncConn.of(conn) is db
        checked: dbtx.AsyncDBTX = db
        assert await checked.fetch_one(
            "SELECT id, name, doc FROM items WHERE id = $1", (1,), Item
        ) == Item(1, "item 1", None)
        assert await db.fetch_all(
            "SELECT id FROM items WHERE id < $1 ORDER BY id", (3,), dbtx.scalar
        ) == [1, 2]
        assert await db.execute("UPDATE items SET name = 'x' WHERE id < $1", (3,)) == 2
        assert await db.execute_result("DELETE FROM items WHERE id = 1", ()) == dbtx.ExecResult(
            1, "DELETE 1"
        )
        assert await db.copy_rows("COPY items (id, name) FROM STDIN", [(200, "a"), (201, "b")]) == 2
        assert [
            i
            async for i in db.stream(
                "SELECT id FROM items WHERE id >= $1 ORDER BY id", (200,), dbtx.scalar
            )
        ] == [200, 201]
        with pytest.raises(psycopg.errors.UndefinedColumn):
            await db.fetch_one("SELECT nope FROM items", (), dbtx.scalar)
        await conn.rollback()
        conn.prepare_threshold = 0
        assert await db.fetch_one("SELECT 1", (), dbtx.scalar) == 1  # the cursor: BEGIN
        assert await db.fetch_all(_BY_ID, (4,), Item) == [Item(4, "item 4", None)]  # lean
        cursor = await conn.execute(_PREPARED, (_BY_ID,), prepare=False)
        assert await cursor.fetchone() == (1,)
        with pytest.raises(psycopg.errors.UniqueViolation) as caught:
            await db.fetch_one("INSERT INTO items VALUES ($1, $2) RETURNING id", (2, "d"), Item)
        assert caught.value.diag.constraint_name == "items_pkey"
        await conn.rollback()
        assert await db.fetch_one("SELECT count(*) FROM items", (), dbtx.scalar) == 50


def test_async_adapter(url: str) -> None:
    """AsyncConn implements the same protocol on an AsyncConnection."""
    asyncio.run(_async_flow(url))


class Mood(enum.StrEnum):
    HAPPY = "happy"
    SAD = "sad"


@pytest.fixture
def mood_registered() -> Iterator[None]:
    """A generated-style enum registered with the runtime, forgotten after the test."""
    dbtx.register_enums([(Mood, "codex_test_mood")])
    yield
    dbtx._ENUMS.pop("codex_test_mood")  # the registry has no public "forget": models never do


@pytest.mark.usefixtures("mood_registered")
def test_a_client_connects_to_a_database_without_a_registered_enum(url: str) -> None:
    """An enum the database lacks (code ahead of the schema) does not fail the connect;
    once the type exists, new connections load it as the StrEnum class."""
    with Database.from_url(url) as client:
        assert client.fetch_one("SELECT 1", (), dbtx.scalar) == 1
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE TYPE codex_test_mood AS ENUM ('happy', 'sad')")
    with Database.from_url(url) as client:
        value = client.fetch_one("SELECT 'sad'::codex_test_mood", (), dbtx.scalar)
        assert value is Mood.SAD
        many = client.fetch_one("SELECT ARRAY['happy', 'sad']::codex_test_mood[]", (), dbtx.scalar)
        assert many == [Mood.HAPPY, Mood.SAD]


@pytest.mark.usefixtures("mood_registered")
def test_load_enums_reports_the_missing_ones(url: str) -> None:
    """load_enums() returns the registered types the database does not have."""
    with psycopg.connect(url) as connection:
        assert "codex_test_mood" in dbtx.load_enums(connection)
