"""The workloads: what each one runs, which peers run it, and the goals it must show.

A goal compares the median of the per-round ratios of two peers of the same
workload (they ran interleaved, so each round's pair saw the same machine
state). Latency goals say "subject ÷ reference ≤ limit"; throughput goals say
"subject's ops/s ÷ reference's ops/s ≥ limit".
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench import data
from bench.core import Context, Runner
from bench.peers import (
    asyncpg_peer,
    codex,
    pgbench,
    pooler,
    psycopg_raw,
    sqlalchemy_peer,
    sqlc_shape,
)
from codex_db.generated import content

__all__ = ["WORKERS", "WORKLOADS", "Goal", "Workload", "select"]

WORKERS = 8
"""Concurrent workers of the concurrency workload."""

ASYNCPG = "asyncpg"
ASYNCPG_UV = "asyncpg+uvloop"
CODEX = "codex (held conn)"
HTTP = "codex db_http"
PG_RIGHT = "psycopg done right"
PG_DEFAULT = "psycopg defaults"
SA_CORE = "SQLAlchemy Core"
SA_ORM = "SQLAlchemy ORM"
SQLC_PY = "sqlc-gen-python shape"
PGBENCH = "pgbench -M prepared"
TRACED = "codex (held, CODEX_DB_TRACING=1, no SDK)"
SLOW_LOG = "codex (held, slow-query log on)"

Factory = Callable[[Context], Runner]
ArgsMaker = Callable[[Context, random.Random, int], list[Any]]


@dataclass(frozen=True)
class Goal:
    """One target of the issue: *subject* against *reference*."""

    subject: str
    reference: str
    limit: float
    throughput: bool = False
    note: str = ""

    def describe(self) -> str:
        """The goal in words, e.g. ``≤ 0.95x psycopg done right``."""
        sign = "≥" if self.throughput else "≤"
        what = "throughput of" if self.throughput else ""
        return f"{sign} {self.limit:g}x {what} {self.reference}".replace("  ", " ")

    def met(self, ratio: float) -> bool:
        """Whether the measured *ratio* (as `Workload.ratio` computes it) meets the goal."""
        return ratio >= self.limit if self.throughput else ratio <= self.limit


@dataclass(frozen=True)
class Workload:
    """A named operation, its peers and goals, and how to make its per-round arguments."""

    name: str
    title: str
    subject: str
    peers: dict[str, Factory]
    args: ArgsMaker
    batch: int
    smoke_batch: int
    goals: tuple[Goal, ...] = ()
    unit: str = "us"
    """``us``: seconds per operation, shown in µs; ``bytes``: bytes per row (memory)."""
    cleanup: str | None = None
    """SQL run (untimed) after every batch, e.g. deleting the inserted rows."""
    vacuum: bool = False
    """VACUUM content (untimed) after every batch."""
    needs_scale: bool = False
    max_rounds: int | None = None
    """Cap on the rounds (memory is deterministic: a few rounds show it)."""
    note: str = ""
    op_count: Callable[[int], int] = field(default=lambda n: n)
    needs_pooler: bool = False
    """Runs only when ``CODEX_DB_BENCH_POOLER`` names a pooler (see `bench.peers.pooler`)."""


_insert_numbers = itertools.count()


def _ids(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    return [rng.choice(ctx.ids) for _ in range(n)]


def _page(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    size = 100 if ctx.smoke else 1000
    published_at, id = ctx.cursors[rng.randrange(max(len(ctx.cursors) - size, 1))]
    return [(published_at, id, size)] * n


def _whole_table(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    return [len(ctx.ids)] * n


def _new_content(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    rows = []
    for _ in range(n):
        k = next(_insert_numbers)
        rows.append(
            content.CreateContentParams(
                creator_id=data.WRITER,
                title=f"Inserted piece {k}",
                slug=f"ins-{k}",
                description="Written by the insert workload, deleted after its batch.",
                content_type="written",
                thumbnail_url=f"https://cdn.example.com/thumbs/ins-{k}.jpg",
                content_body="Short body.",
                category="education",
                tags=["bench", f"t{k % 10}"],
                visibility="public",
                price_cents=500,
                status="draft",
            )
        )
    return rows


def _bulk(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    count = 100 if ctx.smoke else 10_000
    return [list(data.make_rows(0, count, rng, creator=data.BULK_CREATOR)) for _ in range(n)]


def _tx_args(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    picks = [rng.randrange(len(ctx.ids)) for _ in range(n)]
    return [(ctx.ids[i], *ctx.slugs[i]) for i in picks]


GROUP_SIZE = 20
"""Creators per one-to-many operation (with 9.5 media items each on average)."""


def _creator_sets(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    creators = [f"user-{i:04d}" for i in range(data.CREATORS)]
    return [rng.sample(creators, GROUP_SIZE) for _ in range(n)]


def _fractions(ctx: Context, rng: random.Random, n: int) -> list[Any]:
    return [rng.random() for _ in range(n)]


GET_PK = Workload(
    name="get_pk",
    title="get one row by primary key (sync, held connection)",
    subject=CODEX,
    peers={
        CODEX: codex.held_get,
        PG_RIGHT: psycopg_raw.right_get,
        PG_DEFAULT: psycopg_raw.default_get,
        ASYNCPG: partial(asyncpg_peer.get, loop_kind="asyncio"),
        ASYNCPG_UV: partial(asyncpg_peer.get, loop_kind="uvloop"),
        SA_CORE: sqlalchemy_peer.core_get,
        SA_ORM: sqlalchemy_peer.orm_get,
        SQLC_PY: sqlc_shape.get,
        PGBENCH: pgbench.get,
        TRACED: codex.held_get_traced,
        SLOW_LOG: codex.held_get_slow_log,
    },
    args=_ids,
    batch=1000,
    smoke_batch=20,
    goals=(
        Goal(TRACED, CODEX, 1.02, note="tracing on, no SDK: at most 2 % over off"),
        Goal(CODEX, PG_RIGHT, 0.85),
        Goal(CODEX, SQLC_PY, 0.30),
        Goal(CODEX, PGBENCH, 1.8),
    ),
)

GET_PK_POOL = Workload(
    name="get_pk_pool",
    title="get one row by primary key through db_http (pool checkout per call)",
    subject=HTTP,
    peers={
        HTTP: codex.http_get,
        CODEX: codex.held_get,
        "psycopg_pool defaults": psycopg_raw.pool_default_get,
        "psycopg_pool autocommit": psycopg_raw.pool_autocommit_get,
    },
    args=_ids,
    batch=1000,
    smoke_batch=20,
    goals=(Goal(HTTP, CODEX, 1.15),),
    note="Pools hold one connection: the cost measured is the checkout, not waiting.",
)

LIST_1000 = Workload(
    name="list_1000",
    title="list 1,000 rows into structs (a keyset page of published content)",
    subject=CODEX,
    peers={
        CODEX: codex.held_list,
        PG_RIGHT: psycopg_raw.right_list,
        PG_DEFAULT: psycopg_raw.default_list,
        ASYNCPG: partial(asyncpg_peer.list_rows, loop_kind="asyncio"),
        ASYNCPG_UV: partial(asyncpg_peer.list_rows, loop_kind="uvloop"),
        SA_CORE: sqlalchemy_peer.core_list,
        SA_ORM: sqlalchemy_peer.orm_list,
        SQLC_PY: sqlc_shape.list_rows,
        PGBENCH: pgbench.list_rows,
    },
    args=_page,
    batch=20,
    smoke_batch=2,
    goals=(
        Goal(CODEX, PG_RIGHT, 0.80),
        Goal(CODEX, PG_DEFAULT, 0.80, note="lenient reading of 'raw psycopg'"),
        Goal(CODEX, ASYNCPG, 0.85),
        Goal(CODEX, ASYNCPG_UV, 0.85),
        Goal(CODEX, SA_ORM, 0.55),
    ),
)

INSERT = Workload(
    name="insert_returning",
    title="insert … RETURNING one row (held connection, autocommit)",
    subject=CODEX,
    peers={
        CODEX: codex.held_insert,
        PG_RIGHT: psycopg_raw.right_insert,
        PG_DEFAULT: psycopg_raw.default_insert,
        ASYNCPG: partial(asyncpg_peer.insert, loop_kind="asyncio"),
        ASYNCPG_UV: partial(asyncpg_peer.insert, loop_kind="uvloop"),
        SA_CORE: sqlalchemy_peer.core_insert,
        SA_ORM: sqlalchemy_peer.orm_insert,
        SQLC_PY: sqlc_shape.insert,
    },
    args=_new_content,
    batch=300,
    smoke_batch=5,
    goals=(Goal(CODEX, PG_RIGHT, 1.05), Goal(CODEX, SA_CORE, 0.45)),
    cleanup=f"DELETE FROM content WHERE creator_id = '{data.WRITER}'",
)

BULK = Workload(
    name="bulk_10k",
    title="bulk insert 10,000 rows (one op = all rows)",
    subject="codex :copyfrom",
    peers={
        "codex :copyfrom": codex.bulk_copy,
        "psycopg executemany": psycopg_raw.bulk_executemany,
        "psycopg binary COPY": psycopg_raw.bulk_copy_binary,
        "asyncpg COPY": partial(asyncpg_peer.bulk_copy, loop_kind="asyncio"),
        "asyncpg+uvloop COPY": partial(asyncpg_peer.bulk_copy, loop_kind="uvloop"),
        "SQLAlchemy Core executemany": sqlalchemy_peer.bulk_executemany,
    },
    args=_bulk,
    batch=1,
    smoke_batch=1,
    goals=(
        Goal("codex :copyfrom", "psycopg executemany", 0.25),
        Goal("codex :copyfrom", "asyncpg COPY", 0.9),
        Goal("codex :copyfrom", "asyncpg+uvloop COPY", 0.9),
    ),
    cleanup=f"DELETE FROM content WHERE creator_id = '{data.BULK_CREATOR}'",
    vacuum=True,
)

TX3 = Workload(
    name="tx3",
    title="3-statement transaction (get, increment view count, get by slug)",
    subject="codex db_ws",
    peers={
        "codex db_ws": codex.ws_tx3,
        PG_RIGHT: psycopg_raw.right_tx3,
        PG_DEFAULT: psycopg_raw.default_tx3,
        ASYNCPG: partial(asyncpg_peer.tx3, loop_kind="asyncio"),
        ASYNCPG_UV: partial(asyncpg_peer.tx3, loop_kind="uvloop"),
        SA_CORE: sqlalchemy_peer.core_tx3,
        SQLC_PY: sqlc_shape.tx3,
    },
    args=_tx_args,
    batch=300,
    smoke_batch=5,
    goals=(Goal("codex db_ws", PG_RIGHT, 1.0), Goal("codex db_ws", SA_CORE, 0.60)),
    note="db_ws checks a connection out of its pool per transaction; psycopg and asyncpg"
    " hold one; SQLAlchemy uses engine.begin() (pool checkout), as its docs show.",
)

BATCH = "codex db_http batch()"
ONE_BY_ONE = "codex db_http one by one"

BATCH3 = Workload(
    name="batch3",
    title="batch() of the 3 tx3 statements vs the same 3 one after another (db_http)",
    subject=BATCH,
    peers={
        BATCH: codex.http_batch3,
        ONE_BY_ONE: codex.http_one_by_one3,
        "codex db_ws transaction": codex.ws_tx3,
    },
    args=_tx_args,
    batch=300,
    smoke_batch=5,
    goals=(Goal(BATCH, ONE_BY_ONE, 0.5, note="one round trip against three"),),
    note="batch() sends BEGIN, the statements and COMMIT in psycopg pipeline mode with one"
    " Sync; one by one is three autocommit calls; the transaction is five round trips.",
)

_THREADS = f"codex db_http x{WORKERS} threads"
_TASKS = f"codex async x{WORKERS} tasks"
_TASKS_UV = f"codex async+uvloop x{WORKERS} tasks"
_POOL = f"psycopg_pool defaults x{WORKERS} threads"
_APOOL = f"asyncpg pool x{WORKERS} tasks"
_APOOL_UV = f"asyncpg+uvloop pool x{WORKERS} tasks"

CONCURRENT = Workload(
    name="concurrent_8",
    title=f"{WORKERS} concurrent workers, get by primary key (per-op = wall time ÷ ops)",
    subject=_THREADS,
    peers={
        _THREADS: partial(codex.http_threads, workers=WORKERS),
        _TASKS: partial(codex.async_pool_tasks, workers=WORKERS, loop_kind="asyncio"),
        _TASKS_UV: partial(codex.async_pool_tasks, workers=WORKERS, loop_kind="uvloop"),
        _POOL: partial(psycopg_raw.pool_default_threads, workers=WORKERS),
        f"psycopg_pool autocommit x{WORKERS} threads": partial(
            psycopg_raw.pool_default_threads, workers=WORKERS, autocommit=True
        ),
        _APOOL: partial(asyncpg_peer.pool_tasks, workers=WORKERS, loop_kind="asyncio"),
        _APOOL_UV: partial(asyncpg_peer.pool_tasks, workers=WORKERS, loop_kind="uvloop"),
    },
    args=_ids,
    batch=2000,
    smoke_batch=80,
    goals=(
        Goal(_THREADS, _POOL, 1.5, throughput=True),
        Goal(_THREADS, _APOOL, 1.2, throughput=True),
        Goal(_TASKS, _POOL, 1.5, throughput=True),
        Goal(_TASKS, _APOOL, 1.2, throughput=True),
        Goal(_TASKS_UV, _APOOL_UV, 1.3, throughput=True),
    ),
    note="'codex async' is the generated async functions on AsyncDatabase (adb_http).",
)

ASYNC_GET = Workload(
    name="async_get",
    title="async get one row by primary key (held connection)",
    subject="codex async",
    peers={
        "codex async": partial(codex.async_get, loop_kind="asyncio"),
        "codex async+uvloop": partial(codex.async_get, loop_kind="uvloop"),
        "psycopg async done right": partial(psycopg_raw.async_right_get, loop_kind="asyncio"),
        ASYNCPG: partial(asyncpg_peer.get, loop_kind="asyncio"),
        ASYNCPG_UV: partial(asyncpg_peer.get, loop_kind="uvloop"),
    },
    args=_ids,
    batch=1000,
    smoke_batch=20,
    goals=(
        Goal("codex async", ASYNCPG, 0.95),
        Goal("codex async+uvloop", ASYNCPG_UV, 1.2),
    ),
)

SCALE_KEYSET = Workload(
    name="scale_keyset",
    title="scale: 50-row keyset page after a random cursor, 1M rows vs 10k rows",
    subject="codex @1M",
    peers={"codex @1M": codex.scale_keyset("1M"), "codex @10k": codex.scale_keyset("10k")},
    args=_fractions,
    batch=300,
    smoke_batch=20,
    goals=(Goal("codex @1M", "codex @10k", 1.5),),
    needs_scale=True,
)

SCALE_SLUG = Workload(
    name="scale_slug",
    title="scale: get by (creator, slug), 1M rows vs 10k rows",
    subject="codex @1M",
    peers={"codex @1M": codex.scale_slug("1M"), "codex @10k": codex.scale_slug("10k")},
    args=_fractions,
    batch=1000,
    smoke_batch=20,
    goals=(Goal("codex @1M", "codex @10k", 1.5),),
    needs_scale=True,
)

SCALE_SEARCH = Workload(
    name="scale_search",
    title="scale: title search for one row's number (SearchContent), 1M rows vs 10k rows",
    subject="codex @1M",
    peers={"codex @1M": codex.scale_search("1M"), "codex @10k": codex.scale_search("10k")},
    args=_fractions,
    batch=100,
    smoke_batch=10,
    goals=(Goal("codex @1M", "codex @10k", 1.5),),
    needs_scale=True,
    note="A term made of words every title holds ('session 4242 with') reads their"
    " trigrams' posting lists, which grow with the table: ~40 ms at 1M rows.",
)

SCALE_FILTERED = Workload(
    name="scale_filtered",
    title="scale: a creator's content, a page of 10 (ListContent), 1M rows vs 10k rows",
    subject="codex @1M",
    peers={"codex @1M": codex.scale_filtered("1M"), "codex @10k": codex.scale_filtered("10k")},
    args=_fractions,
    batch=300,
    smoke_batch=20,
    goals=(Goal("codex @1M", "codex @10k", 1.5),),
    needs_scale=True,
)

GROUPED = "codex -- group: (1 query)"
TWO_QUERIES = "codex 2 queries (parents, children = ANY)"
JSON_AGG = "codex json_agg (1 query)"

ONE_TO_MANY = Workload(
    name="one_to_many",
    title=f"{GROUP_SIZE} creators, each with its media items (0-19), into Row structs",
    subject=GROUPED,
    peers={
        GROUPED: codex.grouped_one_query,
        TWO_QUERIES: codex.grouped_two_queries,
        JSON_AGG: codex.grouped_json_agg,
    },
    args=_creator_sets,
    batch=200,
    smoke_batch=3,
    note="The generated ListCreatorsWithMedia against the same Rows built with two queries,"
    " and with one json_agg query; all three are checked equal before timing. No goal: the"
    " issue asks for the measurement (one round trip against the parent's columns repeated"
    " in every joined row).",
)

MEMORY = Workload(
    name="memory",
    title="every row of the table held in a list (tracemalloc, bytes per row)",
    subject="codex structs",
    peers={"codex structs": codex.memory_structs, "psycopg tuples": psycopg_raw.memory_tuples},
    args=_whole_table,
    batch=1,
    smoke_batch=1,
    goals=(Goal("codex structs", "psycopg tuples", 1.0),),
    unit="bytes",
    max_rounds=3,
)

PREPARED = "codex transaction (prepared)"
UNPREPARED = "codex transaction-unprepared"
_POOLER_NOTE = (
    "Through PgBouncer 1.21+ with max_prepared_statements (CODEX_DB_BENCH_POOLER), as"
    " Neon's pooler; unprepared is DATABASE_POOLER=transaction-unprepared."
)

POOLER_GET_PK = Workload(
    name="pooler_get_pk",
    title="get one row by primary key through a transaction pooler (db_http)",
    subject=PREPARED,
    peers={
        PREPARED: partial(pooler.get, mode="transaction"),
        UNPREPARED: partial(pooler.get, mode="transaction-unprepared"),
    },
    args=_ids,
    batch=1000,
    smoke_batch=20,
    goals=(Goal(PREPARED, UNPREPARED, 0.6),),
    needs_pooler=True,
    note=_POOLER_NOTE,
)

POOLER_TX3 = Workload(
    name="pooler_tx3",
    title="3-statement transaction through a transaction pooler (db_ws)",
    subject=PREPARED,
    peers={
        PREPARED: partial(pooler.tx3, mode="transaction"),
        UNPREPARED: partial(pooler.tx3, mode="transaction-unprepared"),
    },
    args=_tx_args,
    batch=300,
    smoke_batch=5,
    needs_pooler=True,
    note=_POOLER_NOTE,
)

POOLER_CONCURRENT = Workload(
    name="pooler_concurrent_8",
    title=f"{WORKERS} threads, get by primary key through a transaction pooler",
    subject=PREPARED,
    peers={
        PREPARED: partial(pooler.threads, mode="transaction", workers=WORKERS),
        UNPREPARED: partial(pooler.threads, mode="transaction-unprepared", workers=WORKERS),
    },
    args=_ids,
    batch=2000,
    smoke_batch=80,
    needs_pooler=True,
    note=_POOLER_NOTE,
)

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        GET_PK,
        GET_PK_POOL,
        LIST_1000,
        INSERT,
        BULK,
        TX3,
        BATCH3,
        CONCURRENT,
        ASYNC_GET,
        SCALE_KEYSET,
        SCALE_SLUG,
        SCALE_SEARCH,
        SCALE_FILTERED,
        ONE_TO_MANY,
        MEMORY,
        POOLER_GET_PK,
        POOLER_TX3,
        POOLER_CONCURRENT,
    )
}


def select(names: list[str] | None) -> list[Workload]:
    """The workloads named (for ``None`` all of them, less the pooler ones when no
    ``CODEX_DB_BENCH_POOLER`` is set), in the table's order."""
    if not names:
        pooled = bool(os.environ.get(pooler.POOLER_VARIABLE))
        return [w for w in WORKLOADS.values() if pooled or not w.needs_pooler]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise SystemExit(
            f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(WORKLOADS)}"
        )
    return [WORKLOADS[n] for n in names]
