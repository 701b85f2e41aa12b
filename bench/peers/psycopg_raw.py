"""Hand-written psycopg 3: "done right" (binary, prepared, held cursor, tuple rows) and defaults.

"Done right" is what an expert writes by hand: one `RawCursor` held for the
connection's life, binary results, ``prepare=True``, tuples out, and psycopg's
stock JSON loader (the stdlib's ``json.loads``): configuring msgspec is
codex-db's contribution. "Defaults" is ``conn.execute()`` with %s
placeholders, text results and the default ``prepare_threshold`` (5).
Both run in autocommit mode, like codex-db's ``db_http``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg import AsyncRawCursor, RawCursor
from psycopg_pool import ConnectionPool

from bench import sql
from bench.core import AsyncRunner, Context, Runner, SyncRunner, ThreadsRunner
from bench.peers._rows import copy_values, create_values

__all__ = [
    "async_right_get",
    "bulk_copy_binary",
    "bulk_executemany",
    "default_get",
    "default_insert",
    "default_list",
    "default_tx3",
    "memory_tuples",
    "pool_autocommit_get",
    "pool_default_get",
    "pool_default_threads",
    "right_get",
    "right_insert",
    "right_list",
    "right_tx3",
]

_GET_PY = sql.pyformat(sql.GET)
_LIST_PY = sql.pyformat(sql.LIST)
_CREATE_PY = sql.pyformat(sql.CREATE)
_INCREMENT_PY = sql.pyformat(sql.INCREMENT)
_SLUG_PY = sql.pyformat(sql.SLUG)


def _right(ctx: Context) -> tuple[psycopg.Connection[Any], psycopg.Cursor[Any]]:
    conn = psycopg.connect(ctx.url, autocommit=True, cursor_factory=RawCursor)
    return conn, conn.cursor(binary=True)


def _default(ctx: Context) -> psycopg.Connection[Any]:
    return psycopg.connect(ctx.url, autocommit=True)


def right_get(ctx: Context) -> Runner:
    """Get one row by primary key."""
    conn, cur = _right(ctx)
    return SyncRunner(lambda id: cur.execute(sql.GET, (id,), prepare=True).fetchone(), conn.close)


def default_get(ctx: Context) -> Runner:
    """Get one row by primary key."""
    conn = _default(ctx)
    return SyncRunner(lambda id: conn.execute(_GET_PY, (id,)).fetchone(), conn.close)


def right_list(ctx: Context) -> Runner:
    """A page of rows, as tuples."""
    conn, cur = _right(ctx)
    return SyncRunner(lambda arg: cur.execute(sql.LIST, arg, prepare=True).fetchall(), conn.close)


def default_list(ctx: Context) -> Runner:
    """A page of rows, as tuples."""
    conn = _default(ctx)
    return SyncRunner(lambda arg: conn.execute(_LIST_PY, arg).fetchall(), conn.close)


def right_insert(ctx: Context) -> Runner:
    """INSERT ... RETURNING one row."""
    conn, cur = _right(ctx)
    return SyncRunner(
        lambda p: cur.execute(sql.CREATE, create_values(p), prepare=True).fetchone(), conn.close
    )


def default_insert(ctx: Context) -> Runner:
    """INSERT ... RETURNING one row."""
    conn = _default(ctx)
    return SyncRunner(lambda p: conn.execute(_CREATE_PY, create_values(p)).fetchone(), conn.close)


def right_tx3(ctx: Context) -> Runner:
    """Get, increment, get-by-slug in one transaction on the held connection."""
    conn, cur = _right(ctx)

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with conn.transaction():
            cur.execute(sql.GET, (id,), prepare=True).fetchone()
            cur.execute(sql.INCREMENT, (id,), prepare=True).fetchone()
            cur.execute(sql.SLUG, (creator, slug), prepare=True).fetchone()

    return SyncRunner(op, conn.close)


def default_tx3(ctx: Context) -> Runner:
    """Get, increment, get-by-slug in one transaction, with ``conn.execute``."""
    conn = _default(ctx)

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with conn.transaction():
            conn.execute(_GET_PY, (id,)).fetchone()
            conn.execute(_INCREMENT_PY, (id,)).fetchone()
            conn.execute(_SLUG_PY, (creator, slug)).fetchone()

    return SyncRunner(op, conn.close)


def bulk_executemany(ctx: Context) -> Runner:
    """``executemany`` of one INSERT per row (psycopg pipelines it)."""
    conn, cur = _right(ctx)

    def op(rows: Sequence[Any]) -> None:
        cur.executemany(sql.INSERT_ROW, [copy_values(r) for r in rows])

    return SyncRunner(op, conn.close)


def bulk_copy_binary(ctx: Context) -> Runner:
    """Hand-written binary COPY as psycopg documents it: set_types, Jsonb tags, stdlib json."""
    conn, cur = _right(ctx)
    types = [
        "uuid", "text", "uuid", "uuid", "text", "text", "text", "text", "text", "text",
        "text", "jsonb", "text", "int4", "text", "timestamptz", "int4", "int4",
    ]  # fmt: skip

    def op(rows: Sequence[Any]) -> None:
        with cur.copy(sql.COPY_BINARY) as copy:
            copy.set_types(types)
            for r in rows:
                copy.write_row(copy_values(r))

    return SyncRunner(op, conn.close)


def pool_default_get(ctx: Context) -> Runner:
    """psycopg_pool the default way: ``ConnectionPool(url)``, ``pool.connection()``, execute.

    The pooled connection is not in autocommit mode, so each call is
    BEGIN, SELECT, COMMIT: that is what the default usage does.
    """
    pool = ConnectionPool(ctx.url, min_size=1, max_size=1, open=True)

    def op(id: Any) -> None:
        with pool.connection() as conn:
            conn.execute(_GET_PY, (id,)).fetchone()

    return SyncRunner(op, pool.close)


def pool_autocommit_get(ctx: Context) -> Runner:
    """psycopg_pool with ``kwargs={"autocommit": True}``: one round trip per call."""
    pool = ConnectionPool(ctx.url, min_size=1, max_size=1, kwargs={"autocommit": True}, open=True)

    def op(id: Any) -> None:
        with pool.connection() as conn:
            conn.execute(_GET_PY, (id,)).fetchone()

    return SyncRunner(op, pool.close)


def pool_default_threads(ctx: Context, workers: int, autocommit: bool = False) -> Runner:
    """*workers* threads sharing a psycopg_pool of *workers* connections."""
    kwargs: dict[str, Any] = {"autocommit": True} if autocommit else {}
    pool = ConnectionPool(ctx.url, min_size=workers, max_size=workers, kwargs=kwargs, open=True)
    pool.wait()

    def op(id: Any) -> None:
        with pool.connection() as conn:
            conn.execute(_GET_PY, (id,)).fetchone()

    return ThreadsRunner(workers, op, pool.close)


def memory_tuples(ctx: Context) -> Runner:
    """Bytes per row held by ``fetchall()`` tuples of the whole table (done-right cursor)."""
    conn, cur = _right(ctx)
    params = (None, None, None, None, None, None, 0)

    class Measure:
        def batch(self, args: Sequence[Any]) -> float:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            rows = cur.execute(sql.LIST_ALL, (*params, args[0]), prepare=True).fetchall()
            held = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
            return held / max(len(rows), 1)

        def close(self) -> None:
            conn.close()

    return Measure()


def async_right_get(ctx: Context, loop_kind: str) -> Runner:
    """Async "done right": a held binary `AsyncRawCursor`, ``prepare=True``, tuple rows."""
    box: list[psycopg.AsyncConnection[Any]] = []

    async def setup() -> Callable[[Any], Awaitable[object]]:
        conn = await psycopg.AsyncConnection.connect(
            ctx.url, autocommit=True, cursor_factory=AsyncRawCursor
        )
        box.append(conn)
        cur = conn.cursor(binary=True)

        async def op(id: Any) -> object:
            await cur.execute(sql.GET, (id,), prepare=True)
            return await cur.fetchone()

        return op

    async def teardown() -> None:
        await box[0].close()

    return AsyncRunner(loop_kind, setup, teardown)
