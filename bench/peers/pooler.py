"""codex-db through a transaction pooler (PgBouncer 1.21+), with and without prepared statements.

The pooler is named by ``CODEX_DB_BENCH_POOLER`` (e.g. ``postgresql://postgres@127.0.0.1:6433``,
a PgBouncer 1.24 with ``max_prepared_statements`` in front of the benchmark's server,
started by ``scripts/pgbouncer`` as the README says); the benchmark database is
reached through it by name. The workloads that use it run only when it is set.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.core import Context, Runner, SyncRunner, ThreadsRunner
from codex_db.client import Database, DatabaseWs
from codex_db.generated import content

__all__ = ["POOLER_VARIABLE", "get", "threads", "through_pooler", "tx3"]

POOLER_VARIABLE = "CODEX_DB_BENCH_POOLER"


def through_pooler(url: str) -> str:
    """*url* (the benchmark database) reached through the pooler of `POOLER_VARIABLE`."""
    pooler = os.environ.get(POOLER_VARIABLE)
    if not pooler:
        raise RuntimeError(f"set {POOLER_VARIABLE} to the pooler's URL for this workload")
    return urlunsplit(urlsplit(url)._replace(netloc=urlsplit(pooler).netloc))


def get(ctx: Context, mode: str) -> Runner:
    """``content.get_content(db_http, ...)`` through the pooler, in pooler *mode*."""
    client = Database.from_url(through_pooler(ctx.url), pooler=mode, min_size=1, max_size=1)
    content.get_content(client, id=ctx.ids[0])
    return SyncRunner(lambda id: content.get_content(client, id=id), client.close)


def tx3(ctx: Context, mode: str) -> Runner:
    """Get, increment, get-by-slug in ``db_ws.transaction()`` through the pooler."""
    client = DatabaseWs.from_url(through_pooler(ctx.url), pooler=mode, min_size=1, max_size=1)
    content.get_content(client, id=ctx.ids[0])

    def op(arg: tuple[Any, str, str]) -> None:
        id, creator, slug = arg
        with client.transaction() as tx:
            content.get_content(tx, id=id)
            content.increment_view_count(tx, id=id)
            content.get_personal_content_by_slug(tx, creator_id=creator, slug=slug)

    return SyncRunner(op, client.close)


def threads(ctx: Context, mode: str, workers: int) -> Runner:
    """*workers* threads calling ``content.get_content`` through the pooler."""
    url = through_pooler(ctx.url)
    client = Database.from_url(url, pooler=mode, min_size=workers, max_size=workers)
    return ThreadsRunner(workers, lambda id: content.get_content(client, id=id), client.close)
