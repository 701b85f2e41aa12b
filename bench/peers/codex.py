"""codex-db: the generated functions on a held connection, ``db_http``, ``db_ws`` and async.

The held connection is set up exactly as the pool sets up its connections
(`configure_connection`: msgspec JSON, generated enum types; autocommit;
``prepare_threshold`` = `DIRECT_PREPARE_THRESHOLD`).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import msgspec
import psycopg

from bench import data, sql
from bench.core import AsyncRunner, Context, Runner, SyncRunner, TasksRunner, ThreadsRunner
from codex_db import observe
from codex_db._pool import configure_connection
from codex_db._pool_async import configure_connection as configure_connection_async
from codex_db._pool_async import connection_class
from codex_db.client import Database, DatabaseWs
from codex_db.client_async import AsyncDatabase
from codex_db.config import DIRECT_PREPARE_THRESHOLD
from codex_db.dbtx import AsyncConn, Conn
from codex_db.generated import content, content_async, media_items, models

__all__ = [
    "async_get",
    "async_pool_tasks",
    "bulk_copy",
    "grouped_json_agg",
    "grouped_one_query",
    "grouped_two_queries",
    "held",
    "held_get",
    "held_get_slow_log",
    "held_get_traced",
    "held_insert",
    "held_list",
    "http_batch3",
    "http_get",
    "http_one_by_one3",
    "http_threads",
    "memory_structs",
    "scale_filtered",
    "scale_keyset",
    "scale_search",
    "scale_slug",
    "ws_tx3",
]


def held(url: str) -> tuple[psycopg.Connection[Any], Conn]:
    """A direct connection configured like a pooled one, and its `Conn` adapter."""
    conn = psycopg.connect(url, autocommit=True, prepare_threshold=DIRECT_PREPARE_THRESHOLD)
    configure_connection(conn)
    return conn, Conn.of(conn)


def held_get(ctx: Context) -> Runner:
    """``content.get_content`` on a held connection."""
    conn, db = held(ctx.url)
    return SyncRunner(lambda id: content.get_content(db, id=id), conn.close)


class _Observed:
    """A runner whose batches run with `codex_db.observe` configured as *settings*."""

    def __init__(self, inner: Runner, **settings: Any) -> None:
        self._inner = inner
        self._settings = settings

    def batch(self, args: Sequence[Any]) -> float:
        observe.configure(**self._settings)
        try:
            return self._inner.batch(args)
        finally:
            observe.configure(tracing=False, slow_query_ms=0)

    def close(self) -> None:
        self._inner.close()


def held_get_traced(ctx: Context) -> Runner:
    """`held_get` with ``CODEX_DB_TRACING=1`` and no OpenTelemetry SDK configured."""
    return _Observed(held_get(ctx), tracing=True)


def held_get_slow_log(ctx: Context) -> Runner:
    """`held_get` with the slow-query log on (a threshold no query reaches)."""
    return _Observed(held_get(ctx), slow_query_ms=60_000)


def held_list(ctx: Context) -> Runner:
    """``content.list_published_content_after`` (a keyset page) into `models.Content` structs."""
    conn, db = held(ctx.url)

    def op(arg: tuple[Any, Any, int]) -> object:
        at, id, n = arg
        return content.list_published_content_after(
            db, after_published_at=at, after_id=id, max_rows=n
        )

    return SyncRunner(op, conn.close)


def held_insert(ctx: Context) -> Runner:
    """``content.create_content`` (INSERT ... RETURNING) on a held connection."""
    conn, db = held(ctx.url)
    return SyncRunner(lambda p: content.create_content(db, p), conn.close)


def bulk_copy(ctx: Context) -> Runner:
    """``content.import_content`` (the generated ``:copyfrom``, COPY ... FROM STDIN)."""
    conn, db = held(ctx.url)
    return SyncRunner(lambda rows: content.import_content(db, rows), conn.close)


_Grouped = media_items.ListCreatorsWithMediaRow


def _same_result(db: Conn, op: Callable[[list[str]], list[_Grouped]]) -> None:
    """Fail the peer's setup unless *op* builds what the generated grouped query does."""
    ids = [f"user-{i:04d}" for i in (0, 1, 19, 21, 38, 40)] + ["nobody"]
    expected = media_items.list_creators_with_media(db, ids=ids)
    if op(ids) != expected or not any(r.media for r in expected):
        raise AssertionError("this peer does not build the generated grouped query's result")


def grouped_one_query(ctx: Context) -> Runner:
    """``media_items.list_creators_with_media``: one joined query, rows folded by ``-- group:``."""
    conn, db = held(ctx.url)
    return SyncRunner(lambda ids: media_items.list_creators_with_media(db, ids=ids), conn.close)


def grouped_two_queries(ctx: Context) -> Runner:
    """The same Rows from two queries: the parents, then their children ``= ANY(ids)``.

    Both go through the same `Conn` into the same model Structs, then a dict by parent key
    puts each child in its parent's list: what an application writes without ``-- group:``.
    """
    conn, db = held(ctx.url)

    def op(ids: list[str]) -> list[_Grouped]:
        parents = db.fetch_all(sql.PARENTS, (ids,), models.User)
        children: dict[str, list[models.MediaItem]] = {p.id: [] for p in parents}
        for child in db.fetch_all(sql.CHILDREN, ([p.id for p in parents],), models.MediaItem):
            children[child.creator_id].append(child)
        return [_Grouped(p, children[p.id]) for p in parents]

    _same_result(db, op)
    return SyncRunner(op, conn.close)


def grouped_json_agg(ctx: Context) -> Runner:
    """The same Rows from one query that aggregates each parent's children with ``json_agg``.

    The aggregate is sent as text and decoded by msgspec straight into the model Structs.
    """
    conn, db = held(ctx.url)
    decode = msgspec.json.Decoder(list[models.MediaItem]).decode

    def make(*cells: Any) -> _Grouped:
        return _Grouped(models.User(*cells[:8]), decode(cells[8]))

    def op(ids: list[str]) -> list[_Grouped]:
        return db.fetch_all(sql.WITH_JSON_AGG, (ids,), make)

    _same_result(db, op)
    return SyncRunner(op, conn.close)


def _client(ctx: Context, size: int = 1) -> Database:
    client = Database.from_url(ctx.url, min_size=size, max_size=size)
    content.get_content(client, id=ctx.ids[0])  # open the pool outside the timing
    return client


def http_get(ctx: Context) -> Runner:
    """``content.get_content(db_http, ...)``: a pool checkout per call."""
    client = _client(ctx)
    return SyncRunner(lambda id: content.get_content(client, id=id), client.close)


def http_threads(ctx: Context, workers: int) -> Runner:
    """*workers* threads calling ``content.get_content(db_http, ...)`` on a pool of that size."""
    client = _client(ctx, workers)
    return ThreadsRunner(workers, lambda id: content.get_content(client, id=id), client.close)


def ws_tx3(ctx: Context) -> Runner:
    """Get, increment, get-by-slug inside ``db_ws.transaction()``."""
    client = DatabaseWs.from_url(ctx.url, min_size=1, max_size=1)
    content.get_content(client, id=ctx.ids[0])

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with client.transaction() as tx:
            content.get_content(tx, id=id)
            content.increment_view_count(tx, id=id)
            content.get_personal_content_by_slug(tx, creator_id=creator, slug=slug)

    return SyncRunner(op, client.close)


def http_batch3(ctx: Context) -> Runner:
    """The tx3 statements as ``db_http.batch()``: one transaction, one round trip."""
    client = _client(ctx)

    def op(arg: tuple[Any, str, str]) -> object:
        id, creator, slug = arg
        return client.batch(
            partial(content.get_content, id=id),
            partial(content.increment_view_count, id=id),
            partial(content.get_personal_content_by_slug, creator_id=creator, slug=slug),
        )

    return SyncRunner(op, client.close)


def http_one_by_one3(ctx: Context) -> Runner:
    """The tx3 statements one after another on ``db_http`` (autocommit: three round trips)."""
    client = _client(ctx)

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        content.get_content(client, id=id)
        content.increment_view_count(client, id=id)
        content.get_personal_content_by_slug(client, creator_id=creator, slug=slug)

    return SyncRunner(op, client.close)


async def _async_configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Set up an async connection as codex-db's async pool does."""
    await configure_connection_async(conn)


def async_get(ctx: Context, loop_kind: str) -> Runner:
    """``content_async.get_content`` on a held async connection (`AsyncConn`)."""
    box: list[psycopg.AsyncConnection[Any]] = []

    async def setup() -> Callable[[Any], Awaitable[object]]:
        conn = await connection_class().connect(
            ctx.url, autocommit=True, prepare_threshold=DIRECT_PREPARE_THRESHOLD
        )
        await _async_configure(conn)
        box.append(conn)
        db = AsyncConn.of(conn)
        return lambda id: content_async.get_content(db, id=id)

    async def teardown() -> None:
        await box[0].close()

    return AsyncRunner(loop_kind, setup, teardown)


def async_pool_tasks(ctx: Context, workers: int, loop_kind: str) -> Runner:
    """*workers* tasks calling ``content_async.get_content(adb_http, ...)`` on a pool of that size.

    The client is `AsyncDatabase` (what ``adb_http`` is), opened in the
    runner's event loop.
    """
    box: list[AsyncDatabase] = []

    async def setup() -> Callable[[Any], Awaitable[object]]:
        client = AsyncDatabase.from_url(ctx.url, min_size=workers, max_size=workers)
        await content_async.get_content(client, id=ctx.ids[0])  # open the pool untimed
        box.append(client)

        async def op(id: Any) -> object:
            return await content_async.get_content(client, id=id)

        return op

    async def teardown() -> None:
        await box[0].close()

    return TasksRunner(workers, loop_kind, setup, teardown)


def memory_structs(ctx: Context) -> Runner:
    """Bytes per row held by ``content.list_content`` structs of the whole table."""
    conn, db = held(ctx.url)

    class Measure:
        def batch(self, args: Sequence[Any]) -> float:
            params = content.ListContentParams(skip_rows=0, max_rows=args[0])
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            rows = content.list_content(db, params)
            held_bytes = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
            return held_bytes / max(len(rows), 1)

        def close(self) -> None:
            conn.close()

    return Measure()


def scale_keyset(label: str) -> Callable[[Context], Runner]:
    """A 50-row keyset page from a random cursor, in the *label* scale database."""

    def factory(ctx: Context) -> Runner:
        target = ctx.scale[label]
        conn, db = held(target.url)
        cursors = target.cursors

        def op(x: float) -> object:
            published_at, id = cursors[int(x * len(cursors))]
            return content.list_published_content_after(
                db, after_published_at=published_at, after_id=id, max_rows=50
            )

        return SyncRunner(op, conn.close)

    return factory


def scale_slug(label: str) -> Callable[[Context], Runner]:
    """Get a creator's content by slug (random row), in the *label* scale database."""

    def factory(ctx: Context) -> Runner:
        target = ctx.scale[label]
        conn, db = held(target.url)
        slugs = target.slugs

        def op(x: float) -> object:
            creator, slug = slugs[int(x * len(slugs))]
            return content.get_personal_content_by_slug(db, creator_id=creator, slug=slug)

        return SyncRunner(op, conn.close)

    return factory


def scale_search(label: str) -> Callable[[Context], Runner]:
    """`content.search_content` for one row's number in its title (`` <n> ``, a single
    match), first page of 20, in the *label* scale database."""

    def factory(ctx: Context) -> Runner:
        target = ctx.scale[label]
        conn, db = held(target.url)
        rows = len(target.ids)

        def op(x: float) -> object:
            term = f" {int(x * rows)} "
            params = content.SearchContentParams(search=term, skip_rows=0, max_rows=20)
            return content.search_content(db, params)

        return SyncRunner(op, conn.close)

    return factory


def scale_filtered(label: str) -> Callable[[Context], Runner]:
    """`content.list_content` of one creator's content (random creator), a page of 10
    in the default order (a creator has 10 rows at 10k), in the *label* scale database."""

    def factory(ctx: Context) -> Runner:
        target = ctx.scale[label]
        conn, db = held(target.url)

        def op(x: float) -> object:
            params = content.ListContentParams(
                creator_id=f"user-{int(x * data.CREATORS):04d}", skip_rows=0, max_rows=10
            )
            return content.list_content(db, params)

        return SyncRunner(op, conn.close)

    return factory
