"""Plans that stay bounded: every list, search and count query of queries/ on 100k skewed rows.

For each query a table of selective parameter sets (`CASES`, built on the rare
values of `tests._plan_data`) runs under ``EXPLAIN (ANALYZE, BUFFERS)`` and must
touch at most `MAX_BUFFERS` buffers and remove at most `MAX_REMOVED` rows by a
filter, in every sort order the query offers:

- after ``ANALYZE`` and after a second one (statistics are sampled: a plan that
  flips to walking an index in listing order fails the second round);
- as a prepared statement run twelve times through `Conn` on a connection set
  up as the runtime's (``prepare_threshold=1``): after five custom plans
  PostgreSQL may switch to the generic one; the test explains the statement the
  server holds, or checks that a statement with an optional filter was never
  prepared (`codex_db._preparation`);
- with ``plan_cache_mode = force_generic_plan``, for every statement the runtime
  lets the server prepare.

A new list, search or count query without an entry in `CASES` fails
`test_every_list_query_has_plan_cases`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import sql

from codex_db import AsyncDatabase, Database, dbtx
from codex_db._preparation import has_optional_filter, needs_custom_plan
from codex_db.config import DIRECT_PREPARE_THRESHOLD
from codex_db.dbtx import scalar
from codex_db.generated import (
    accounts,
    content,
    content_async,
    media_items,
    organizations,
    users,
)
from tests import _plan_data
from tests._plan_data import Keys

ROWS = 100_000
MAX_BUFFERS = 1_000
"""Shared and temporary buffers one execution may touch (issue 21's goal)."""
MAX_REMOVED = 1_000
"""Rows a plan may read and throw away (removed by a filter, a recheck or a join filter)."""

_QUERIES = Path(__file__).resolve().parents[1] / "queries"
_NAME = re.compile(r"^-- name: (?P<name>\w+) :\w+", re.M)
_LISTED = re.compile(r"^(List|Search|Count)[A-Z]")


@dataclass(frozen=True)
class Case:
    """A selective call of one generated function: *call(db, keys, **order)*."""

    query: str
    label: str
    call: Callable[..., object]
    orders: type[StrEnum] | None = None


def _c(query: str, label: str, call: Callable[..., object], orders: Any = None) -> Case:
    return Case(query, label, call, orders)


def _list(**filters: Any) -> Callable[..., object]:
    def call(db: Any, k: Keys, **order: Any) -> object:
        values = {name: v(k) if callable(v) else v for name, v in filters.items()}
        params = content.ListContentParams(**values, skip_rows=0, max_rows=20)
        return content.list_content(db, params, **order)

    return call


def _search(**filters: Any) -> Callable[..., object]:
    def call(db: Any, k: Keys, **order: Any) -> object:
        values = {name: v(k) if callable(v) else v for name, v in filters.items()}
        params = content.SearchContentParams(**values, skip_rows=0, max_rows=20)
        return content.search_content(db, params, **order)

    return call


def _count(**filters: Any) -> Callable[..., object]:
    def call(db: Any, k: Keys) -> object:
        values = {name: v(k) if callable(v) else v for name, v in filters.items()}
        return content.count_content(db, content.CountContentParams(**values))

    return call


_ORDER = content.ListContentOrder
_SORT = content.SearchContentOrder
CASES: list[Case] = [
    _c("ListAccountsByUser", "rare user", lambda db, k: accounts.list_accounts_by_user(
        db, user_id=k.rare_account_user)),
    _c("ListReadyMediaForCreator", "rare creator", lambda db, k: (
        media_items.list_ready_media_for_creator(db, creator_id=k.rare_creator, max_rows=20))),
    _c("ListReadyMediaForCreator", "common creator", lambda db, k: (
        media_items.list_ready_media_for_creator(db, creator_id=k.common_creator, max_rows=20))),
    _c("ListOrganizations", "first page", lambda db, k: organizations.list_organizations(
        db, include_deleted=False, skip_rows=0, max_rows=20)),
    _c("ListOrganizations", "with deleted", lambda db, k: organizations.list_organizations(
        db, include_deleted=True, skip_rows=0, max_rows=20)),
    _c("SearchOrganizations", "rare term", lambda db, k: organizations.search_organizations(
        db, include_deleted=False, search=k.rare_org_search, skip_rows=0, max_rows=20)),
    # One-to-many: every child of the parents asked for, so only parents with few are bounded.
    _c("ListCreatorsWithMedia", "rare creators", lambda db, k: (
        media_items.list_creators_with_media(db, ids=[k.rare_creator, k.rare_account_user]))),
    _c("ListOrganizationsWithPublishedContent", "rare organization", lambda db, k: (
        organizations.list_organizations_with_published_content(db, ids=[k.rare_org]))),
    _c("ListUsers", "first page", lambda db, k: users.list_users(
        db, include_deleted=False, skip_rows=0, max_rows=20)),
    _c("ListPublishedContentWithRelations", "first page", lambda db, k: (
        content.list_published_content_with_relations(db, max_rows=20))),
    _c("ListPublishedContentFirstPage", "first page", lambda db, k: (
        content.list_published_content_first_page(db, max_rows=20))),
    _c("ListPublishedContentAfter", "mid cursor", lambda db, k: (
        content.list_published_content_after(
            db, after_published_at=k.cursor[0], after_id=k.cursor[1], max_rows=20))),
    # Unfiltered, only the default order has an index (the others sort the table).
    _c("ListContent", "no filter", _list()),
    _c("ListContent", "rare organization", _list(organization_id=lambda k: k.rare_org), _ORDER),
    _c("ListContent", "rare creator", _list(creator_id=lambda k: k.rare_creator), _ORDER),
    _c("ListContent", "rare status", _list(status="archived"), _ORDER),
    _c("ListContent", "rare type", _list(content_type="written"), _ORDER),
    _c("ListContent", "rare category", _list(category=lambda k: k.rare_category), _ORDER),
    _c("ListContent", "common creator, rare category", _list(
        creator_id=lambda k: k.common_creator, category=lambda k: k.rare_category), _ORDER),
    _c("SearchContent", "rare term", _search(search=lambda k: k.rare_search), _SORT),
    _c("SearchContent", "rare term of a common word", _search(search="piano number 4242"), _SORT),
    _c("SearchContent", "rare term, common organization", _search(
        search=lambda k: k.rare_search, organization_id=lambda k: k.common_org), _SORT),
    _c("CountContent", "rare organization", _count(organization_id=lambda k: k.rare_org)),
    _c("CountContent", "rare creator", _count(creator_id=lambda k: k.rare_creator)),
    _c("CountContent", "rare status", _count(status="archived")),
    _c("CountContent", "rare type", _count(content_type="written")),
    _c("CountContent", "rare category", _count(category=lambda k: k.rare_category)),
    _c("CountContent", "rare term", _count(search=lambda k: k.rare_search)),
]  # fmt: skip


class _Captured(Exception):  # noqa: N818 - not an error: how _Capture hands the call back
    def __init__(self, query: LiteralString, params: Any) -> None:
        self.query, self.params = query, tuple(params)


class _Capture:
    """A DBTX that records what a generated function would send, and sends nothing."""

    def fetch_one(self, query: LiteralString, params: Any, make: Any) -> Any:
        raise _Captured(query, params)

    fetch_all = fetch_one


@dataclass(frozen=True)
class Run:
    """One statement of a case: its SQL text and parameters (one per sort order)."""

    name: str
    query: LiteralString
    params: tuple[Any, ...]


def _runs(case: Case, keys: Keys) -> Iterator[Run]:
    for order in list(case.orders) if case.orders else [None]:
        try:
            case.call(_Capture(), keys, **({"order": order} if order else {}))
        except _Captured as captured:
            label = f"{case.query} {case.label}" + (f" [{order.value}]" if order else "")
            yield Run(label, captured.query, captured.params)
        else:  # pragma: no cover - every generated list function fetches
            raise AssertionError(f"{case.query} {case.label} sent nothing")


def _listed_queries() -> set[str]:
    return {
        m["name"]
        for path in sorted(_QUERIES.glob("*.sql"))
        for m in _NAME.finditer(path.read_text())
        if _LISTED.match(m["name"])
    }


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@dataclass(frozen=True)
class Cost:
    """What one execution read: buffers touched, rows thrown away, and the plan's shape."""

    buffers: int
    removed: int
    shape: str

    def bounded(self) -> bool:
        """Within `MAX_BUFFERS` and `MAX_REMOVED`."""
        return self.buffers <= MAX_BUFFERS and self.removed <= MAX_REMOVED


def _cost(plan: dict[str, Any]) -> Cost:
    buffers = sum(
        plan.get(key, 0) for key in ("Shared Hit Blocks", "Shared Read Blocks", "Temp Read Blocks")
    )
    removed = sum(
        sum(n.get(key, 0) for key in ("Rows Removed by Filter", "Rows Removed by Index Recheck",
                                      "Rows Removed by Join Filter")) * n.get("Actual Loops", 1)
        for n in _nodes(plan)
    )  # fmt: skip
    shape = " > ".join(
        n["Node Type"] + (f" on {n['Index Name']}" if "Index Name" in n else "")
        for n in _nodes(plan)
    )
    return Cost(int(buffers), int(removed), shape)


_EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "


def _explain(conn: psycopg.Connection[Any], run: Run) -> Cost:
    with psycopg.RawCursor(conn) as cur:
        cur.execute(_EXPLAIN + run.query, run.params)
        row = cur.fetchone()
    assert row is not None
    return _cost(row[0][0]["Plan"])


def _explain_prepared(conn: psycopg.Connection[Any], name: str, params: tuple[Any, ...]) -> Cost:
    """The plan the server's prepared statement *name* runs for *params* (its cache decides)."""
    values = sql.SQL(", ").join(sql.Literal(v) for v in params)
    statement = sql.SQL(_EXPLAIN + "EXECUTE {}({})").format(sql.Identifier(name), values)
    row = conn.execute(statement).fetchone()
    assert row is not None
    return _cost(row[0][0]["Plan"])


def _unbounded(costs: dict[str, Cost]) -> dict[str, str]:
    return {
        name: f"{c.buffers} buffers, {c.removed} rows removed: {c.shape}"
        for name, c in costs.items()
        if not c.bounded()
    }


@pytest.fixture(scope="module")
def plan_db(pg_server: Any, migrated_template: str) -> Iterator[tuple[str, Keys]]:
    """A migrated database holding `ROWS` skewed rows per listed table, analyzed."""
    name = pg_server.create_database(template=migrated_template)
    url = pg_server.database_url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            keys = _plan_data.load(conn, ROWS)
            conn.execute("VACUUM ANALYZE")
        yield url, keys
    finally:
        pg_server.drop_database(name)


def test_every_list_query_has_plan_cases() -> None:
    """Every List*/Search*/Count* query of queries/ has a selective case, and only those."""
    assert {c.query for c in CASES} == _listed_queries()
    blank = uuid.UUID(int=0)
    keys = Keys("c", "r", blank, blank, "x", "y", "z", "w", (datetime.now(UTC), blank), "a", "b")
    for case in CASES:
        for run in _runs(case, keys):
            assert run.query.startswith(f"-- name: {case.query} :"), run.name


@pytest.mark.slow
def test_plans_stay_bounded_after_each_analyze(plan_db: tuple[str, Keys]) -> None:
    """Every case within the bounds, after ANALYZE and again after a second ANALYZE."""
    url, keys = plan_db
    runs = [run for case in CASES for run in _runs(case, keys)]
    with psycopg.connect(url, autocommit=True) as conn:
        first = {run.name: _explain(conn, run) for run in runs}
        conn.execute("ANALYZE")
        second = {run.name: _explain(conn, run) for run in runs}
    assert _unbounded(first) == {}
    assert _unbounded(second) == {}


@pytest.mark.slow
def test_prepared_statements_stay_bounded(plan_db: tuple[str, Keys]) -> None:
    """Twelve runs of each statement through `Conn` (prepared after the first, as the
    runtime does), every case of its query in turn, unfiltered ones included: what
    the server then runs for each selective case stays bounded, generic plan or not."""
    url, keys = plan_db
    by_query: dict[str, list[Run]] = {}
    for case in CASES:
        for run in _runs(case, keys):
            by_query.setdefault(run.query, []).append(run)
    costs: dict[str, Cost] = {}
    with psycopg.connect(url, autocommit=True, prepare_threshold=DIRECT_PREPARE_THRESHOLD) as conn:
        dbtx.configure(conn)
        db = dbtx.Conn.of(conn)
        for query, runs in by_query.items():
            for i in range(12):
                run = runs[i % len(runs)]
                db.fetch_all(query, run.params, lambda *cells: cells)
            held = conn.execute(
                "SELECT name FROM pg_prepared_statements WHERE statement = %s", (query,)
            ).fetchone()
            assert (held is None) == needs_custom_plan(query), runs[0].name
            for run in runs:
                costs[run.name] = (
                    _explain(conn, run) if held is None
                    else _explain_prepared(conn, held[0], run.params)
                )  # fmt: skip
    assert _unbounded(costs) == {}


@pytest.mark.slow
def test_generic_plans_stay_bounded(plan_db: tuple[str, Keys]) -> None:
    """Every statement the runtime prepares is bounded on its generic plan too; the
    optional-filter statements it never prepares would not be (the reason for the rule)."""
    url, keys = plan_db
    generic: dict[str, Cost] = {}
    unprepared: dict[str, Cost] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        statements: dict[str, str] = {}
        for case in CASES:
            for run in _runs(case, keys):
                if run.query not in statements:
                    statements[run.query] = f"plan_{len(statements)}"
                    body = sql.SQL(run.query.split("\n", 1)[1])
                    name = sql.Identifier(statements[run.query])
                    conn.execute(sql.SQL("PREPARE {} AS {}").format(name, body))
                cost = _explain_prepared(conn, statements[run.query], run.params)
                (unprepared if needs_custom_plan(run.query) else generic)[run.name] = cost
    assert _unbounded(generic) == {}
    assert _unbounded(unprepared), "no optional-filter statement needs the rule any more"


@pytest.mark.parametrize(
    ("query", "optional"),
    [
        ("SELECT 1 WHERE ($1::uuid IS NULL OR id = $1)", True),
        ("SELECT 1 WHERE ($2 is null or x = $2)", True),
        ("SELECT 1 WHERE ($3::character varying[] IS NULL OR x = ANY($3))", True),
        ("SELECT 1 WHERE ($1::varchar(10) is NULL\n   OR x = $1)", True),
        ("SELECT 1 WHERE ($1::timestamp with time zone IS NULL OR t < $1)", True),
        ("SELECT 1 WHERE (deleted_at IS NULL OR $1::boolean)", False),
        ("SELECT 1 WHERE $1 IS NULL", False),
        ("SELECT coalesce($1, x)", False),
    ],
)
def test_optional_filter_detection(query: str, optional: bool) -> None:
    """Only a parameter tested for NULL before an OR marks an optional filter."""
    assert has_optional_filter(query) is optional


@pytest.mark.parametrize(
    ("query", "custom"),
    [
        ("SELECT 1 FROM t WHERE id = ANY($1::uuid[])", True),
        ("SELECT 1 FROM t WHERE id <> ALL ( $2 )", True),
        ("SELECT 1 FROM t WHERE id = ANY('{1,2}'::int[])", False),
        ("SELECT 1 FROM t WHERE id = $1", False),
        ("SELECT 1 WHERE ($1::uuid IS NULL OR x = $1)", True),
    ],
)
def test_custom_plan_detection(query: str, custom: bool) -> None:
    """Optional filters and array-parameter membership are planned per call."""
    assert needs_custom_plan(query) is custom


_HELD = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1"


def test_clients_never_prepare_optional_filters(migrated_database: Callable[[], str]) -> None:
    """Through `Database` and `AsyncDatabase` (one pooled connection, prepare_threshold=0):
    the optional-filter statements stay unprepared, the others are prepared."""
    url = migrated_database()
    params = content.ListContentParams(category="none", skip_rows=0, max_rows=5)
    with Database.from_url(url, max_size=1, prepare_threshold=0) as db:
        for _ in range(12):
            assert content.list_content(db, params) == []
            assert content.count_content(db, content.CountContentParams(category="none")) == 0
            assert content.list_published_content_first_page(db, max_rows=5) == []
        assert db.fetch_one(_HELD, (content.LIST_CONTENT,), scalar) == 0
        assert db.fetch_one(_HELD, (content.COUNT_CONTENT,), scalar) == 0
        assert db.fetch_one(_HELD, (content.LIST_PUBLISHED_CONTENT_FIRST_PAGE,), scalar) == 1

    async def main() -> tuple[int | None, int | None]:
        async with AsyncDatabase.from_url(url, max_size=1, prepare_threshold=0) as adb:
            for _ in range(12):
                assert await content_async.list_content(adb, params) == []
                assert await content_async.list_published_content_first_page(adb, max_rows=5) == []
            return (
                await adb.fetch_one(_HELD, (content.LIST_CONTENT,), scalar),
                await adb.fetch_one(_HELD, (content.LIST_PUBLISHED_CONTENT_FIRST_PAGE,), scalar),
            )

    assert asyncio.run(main()) == (0, 1)
