"""Tracing (OpenTelemetry SDK, in-memory exporter) and the slow-query log, on a real database."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from functools import partial

import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codex_db import AsyncDatabase, DatabaseWs, observe
from codex_db.dbtx import scalar
from codex_db.generated import users, users_async

_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))
trace.set_tracer_provider(_PROVIDER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    observe.configure(tracing=True)
    _EXPORTER.clear()
    try:
        yield _EXPORTER
    finally:
        observe.configure(tracing=False, slow_query_ms=0)


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def new_params(tag: str = "t") -> users.CreateUserParams:
    uid = f"{tag}-{uuid.uuid4().hex[:10]}"
    return users.CreateUserParams(id=uid, name="Pat", email=f"{uid}@secret-value.test")


def test_a_span_per_query_named_after_it_without_values(
    url: str, spans: InMemorySpanExporter
) -> None:
    with DatabaseWs.from_url(url) as db:
        params = new_params()
        users.create_user(db, params)
        assert users.get_user(db, id=params.id) is not None
    (create,) = named(spans, "CreateUser")
    (get,) = named(spans, "GetUser")
    attributes = dict(get.attributes or {})
    assert attributes["db.system.name"] == "postgresql"
    assert attributes["db.namespace"] == url.split("/")[-1].split("?")[0]
    assert attributes["db.operation.name"] == "SELECT"
    assert attributes["db.query.summary"] == "GetUser"
    assert "$1" in str(attributes["db.query.text"])
    assert get.kind is trace.SpanKind.CLIENT
    everything = " ".join(
        str(v) for s in spans.get_finished_spans() for v in (s.attributes or {}).values()
    )
    assert params.id not in everything and "secret-value" not in everything  # no parameter values
    assert dict(create.attributes or {})["db.operation.name"] == "INSERT"


def test_transaction_and_batch_spans_hold_their_queries(
    url: str, spans: InMemorySpanExporter
) -> None:
    with DatabaseWs.from_url(url) as db:
        params = new_params()
        with db.transaction() as tx:
            users.create_user(tx, params)
            users.get_user(tx, id=params.id)
        db.as_http().batch(partial(users.get_user, id=params.id))
    (transaction, *_) = named(spans, "transaction")
    inside = [
        s
        for s in spans.get_finished_spans()
        if s.parent and s.parent.span_id == transaction.context.span_id
    ]
    assert {s.name for s in inside} == {"CreateUser", "GetUser"}
    (batch,) = named(spans, "batch")
    batch_tx = [
        s
        for s in named(spans, "transaction")
        if s.parent and s.parent.span_id == batch.context.span_id
    ]
    assert len(batch_tx) == 1


def test_errors_are_recorded_with_the_sqlstate(url: str, spans: InMemorySpanExporter) -> None:
    with DatabaseWs.from_url(url) as db:
        params = new_params()
        users.create_user(db, params)
        with pytest.raises(psycopg.errors.UniqueViolation):
            users.create_user(db, params)
    failed = [
        s for s in named(spans, "CreateUser") if s.status.status_code is trace.StatusCode.ERROR
    ]
    assert len(failed) == 1
    assert dict(failed[0].attributes or {})["error.type"] == "23505"
    assert any(event.name == "exception" for event in failed[0].events)


def test_async_queries_are_traced(url: str, spans: InMemorySpanExporter) -> None:
    async def main() -> None:
        async with AsyncDatabase.from_url(url) as db:
            params = new_params("a")
            await users_async.create_user(db, params)
            assert await users_async.get_user(db, id=params.id) is not None

    asyncio.run(main())
    assert len(named(spans, "GetUser")) == 1 and len(named(spans, "CreateUser")) == 1


def test_off_by_default_no_spans(url: str) -> None:
    _EXPORTER.clear()
    assert observe.settings() == {"tracing": False, "slow_query_ms": None}
    with DatabaseWs.from_url(url) as db:
        users.get_user(db, id="nobody")
    assert _EXPORTER.get_finished_spans() == ()


def test_slow_queries_are_logged_by_name_without_parameters(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    observe.configure(slow_query_ms=50)
    try:
        with DatabaseWs.from_url(url) as db, caplog.at_level(logging.WARNING, "codex_db.slow"):
            users.get_user(db, id="fast-one")
            db.fetch_one(
                "-- name: SleepAWhile :one\nSELECT pg_sleep($1::float8 / 10)", ("1",), scalar
            )
    finally:
        observe.configure(slow_query_ms=0)
    slow = [r.getMessage() for r in caplog.records if r.name == "codex_db.slow"]
    assert len(slow) == 1
    assert slow[0].startswith("slow query SleepAWhile: ") and "CODEX_DB_SLOW_QUERY_MS=50" in slow[0]
    assert "fast-one" not in slow[0]


def test_query_names() -> None:
    assert observe.query_name(users.GET_USER) == "GetUser"
    assert observe.query_name("/* x */ update t set a = 1") == "UPDATE"
