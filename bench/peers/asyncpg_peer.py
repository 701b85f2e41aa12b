"""asyncpg, on the default asyncio loop and on uvloop, building the same `models.Content` structs.

jsonb gets a binary codec using msgspec (asyncpg returns jsonb as a ``str``
otherwise), so every peer hands back the same decoded values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import msgspec
from psycopg.conninfo import conninfo_to_dict

from bench import sql
from bench.core import AsyncRunner, Context, Runner, TasksRunner
from bench.peers._rows import copy_values, create_values
from codex_db.generated.models import Content

__all__ = ["bulk_copy", "get", "insert", "list_rows", "pool_tasks", "tx3"]

_Op = Callable[[Any], Awaitable[object]]


def _connect_kwargs(url: str) -> dict[str, Any]:
    params = conninfo_to_dict(url)
    kwargs: dict[str, Any] = {"database": params.get("dbname"), "user": params.get("user")}
    for key in ("host", "port", "password"):
        if params.get(key):
            kwargs[key] = params[key]
    return kwargs


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + msgspec.json.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


async def _init(conn: Any) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )


def _runner(ctx: Context, loop_kind: str, make_op: Callable[[Any], _Op]) -> Runner:
    box: list[Any] = []

    async def setup() -> _Op:
        conn = await asyncpg.connect(**_connect_kwargs(ctx.url))
        await _init(conn)
        box.append(conn)
        return make_op(conn)

    async def teardown() -> None:
        await box[0].close()

    return AsyncRunner(loop_kind, setup, teardown)


def get(ctx: Context, loop_kind: str) -> Runner:
    """``fetchrow`` by primary key into a struct."""

    def make_op(conn: Any) -> _Op:
        async def op(id: Any) -> object:
            row = await conn.fetchrow(sql.GET, id)
            return None if row is None else Content(*row)

        return op

    return _runner(ctx, loop_kind, make_op)


def list_rows(ctx: Context, loop_kind: str) -> Runner:
    """``fetch`` a page into structs."""

    def make_op(conn: Any) -> _Op:
        async def op(arg: tuple[Any, Any, int]) -> object:
            return [Content(*row) for row in await conn.fetch(sql.LIST, *arg)]

        return op

    return _runner(ctx, loop_kind, make_op)


def insert(ctx: Context, loop_kind: str) -> Runner:
    """INSERT ... RETURNING into a struct."""

    def make_op(conn: Any) -> _Op:
        async def op(p: Any) -> object:
            return Content(*await conn.fetchrow(sql.CREATE, *create_values(p, wrap=False)))

        return op

    return _runner(ctx, loop_kind, make_op)


def tx3(ctx: Context, loop_kind: str) -> Runner:
    """Get, increment, get-by-slug in ``conn.transaction()``."""

    def make_op(conn: Any) -> _Op:
        async def op(arg: tuple[Any, str, str]) -> None:
            id, creator, slug = arg
            async with conn.transaction():
                await conn.fetchrow(sql.GET, id)
                await conn.fetchval(sql.INCREMENT, id)
                await conn.fetchrow(sql.SLUG, creator, slug)

        return op

    return _runner(ctx, loop_kind, make_op)


def bulk_copy(ctx: Context, loop_kind: str) -> Runner:
    """``copy_records_to_table`` (binary COPY)."""

    def make_op(conn: Any) -> _Op:
        async def op(rows: Sequence[Any]) -> object:
            records = [copy_values(r, wrap=False) for r in rows]
            return await conn.copy_records_to_table("content", records=records, columns=sql.COLUMNS)

        return op

    return _runner(ctx, loop_kind, make_op)


def pool_tasks(ctx: Context, workers: int, loop_kind: str) -> Runner:
    """*workers* tasks on ``asyncpg.create_pool`` of that size, ``pool.fetchrow`` into structs."""
    box: list[Any] = []

    async def setup() -> _Op:
        pool = await asyncpg.create_pool(
            **_connect_kwargs(ctx.url), min_size=workers, max_size=workers, init=_init
        )
        box.append(pool)

        async def op(id: Any) -> object:
            row = await pool.fetchrow(sql.GET, id)
            return None if row is None else Content(*row)

        return op

    async def teardown() -> None:
        await box[0].close()

    return TasksRunner(workers, loop_kind, setup, teardown)
