"""Tracing (OpenTelemetry) and a slow-query log for generated queries.

Both are off by default and cost one attribute check per query then. Turn them on
with environment variables, read once at import:

- ``CODEX_DB_TRACING=1``: a span per generated query, named after the sqlc query
  (``GetContent``), with the database semantic-convention attributes
  (``db.system.name``, ``db.namespace``, ``server.address``, ``server.port``,
  ``db.operation.name``, ``db.query.summary``, ``db.query.text``: the SQL with its
  ``$1`` placeholders, never parameter values); a span per transaction and per
  ``batch()``; errors recorded on the span (``error.type`` is the SQLSTATE). Needs
  the ``otel`` extra (``opentelemetry-api``) and an SDK the application configures.
- ``CODEX_DB_SLOW_QUERY_MS=200``: a query that takes longer is logged (logger
  ``codex_db.slow``, WARNING) with its name and duration, never its parameters.

or in code with `configure()`. Use it in services that export traces, and to find
the queries worth an index.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from time import monotonic
from typing import Any

import psycopg

from codex_db.errors import ConfigError

__all__ = [
    "SLOW_QUERY_VARIABLE",
    "TRACING_VARIABLE",
    "block",
    "configure",
    "observed",
    "query_name",
    "settings",
    "state",
]

TRACING_VARIABLE = "CODEX_DB_TRACING"
SLOW_QUERY_VARIABLE = "CODEX_DB_SLOW_QUERY_MS"

slow_logger = logging.getLogger("codex_db.slow")

_NAME = re.compile(r"--\s*name:\s*(\w+)")
_NAME_LINE = re.compile(r"--\s*name:[^\n]*\n?")
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*\n|/\*.*?\*/)*(\w+)", re.S)
#: Off: a context manager for ``with`` and ``async with`` that does nothing.
_NOTHING: nullcontext[None] = nullcontext()


class _State:
    """What is on; `on` is the one check the hot path makes."""

    __slots__ = ("on", "slow_ms", "tracer")

    def __init__(self) -> None:
        self.on = False
        self.tracer: Any = None
        self.slow_ms: float | None = None


#: What is on (read it, change it with `configure()`); ``state.on`` is the hot path's check.
state = _State()


def configure(*, tracing: bool | None = None, slow_query_ms: float | None = None) -> None:
    """Turn tracing and the slow-query log on or off (``None``: leave as it is).

    ``slow_query_ms=0`` turns the log off.

    Raises:
        ConfigError: tracing asked for without ``opentelemetry-api`` installed.
    """
    if tracing is not None:
        state.tracer = _tracer() if tracing else None
    if slow_query_ms is not None:
        state.slow_ms = slow_query_ms if slow_query_ms > 0 else None
    state.on = state.tracer is not None or state.slow_ms is not None


def settings() -> dict[str, Any]:
    """What is on now: ``{"tracing": bool, "slow_query_ms": float | None}``."""
    return {"tracing": state.tracer is not None, "slow_query_ms": state.slow_ms}


@lru_cache(maxsize=4096)
def query_name(query: str) -> str:
    """The sqlc name of *query* (its ``-- name:`` line), else its first SQL keyword."""
    found = _NAME.search(query, 0, 200)
    if found:
        return found[1]
    return _operation(query)


@lru_cache(maxsize=4096)
def _operation(query: str) -> str:
    body = _NAME_LINE.sub("", query, count=1)
    found = _FIRST_WORD.match(body)
    return found[1].upper() if found else "SQL"


def observed(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], query: str
) -> _Observed | nullcontext[None]:
    """A context manager (``with`` or ``async with``) around one query on *conn*: its span
    and its slow-query check. The adapters call it only when ``state.on``."""
    return _Observed(conn, query) if state.on else _NOTHING


class _Observed:
    """One query's span (when an SDK records) and slow-query check; no generator frames."""

    __slots__ = ("_conn", "_query", "_span", "_start")

    def __init__(
        self, conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], query: str
    ) -> None:
        self._conn = conn
        self._query = query
        self._span: AbstractContextManager[Any] | None = None
        self._start = 0.0

    def __enter__(self) -> None:
        if state.tracer is not None and _recording():
            self._span = _span(query_name(self._query), _attributes(self._conn, self._query))
            self._span.__enter__()
        self._start = monotonic()

    def __exit__(self, *exc: Any) -> None:
        _check_slow(self._query, self._start)
        if self._span is not None:
            self._span.__exit__(*exc)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)


def block(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any] | None, name: str
) -> _Either | nullcontext[None]:
    """A span around a transaction or ``batch()`` (*name*), when tracing is on; use it
    with ``with`` or ``async with``."""
    if state.tracer is None or not _recording():
        return _NOTHING
    return _Either(_span(name, _attributes(conn, None)))


class _Either:
    """A span (a sync context manager, no I/O) that also works with ``async with``."""

    __slots__ = ("_inner",)

    def __init__(self, inner: AbstractContextManager[Any]) -> None:
        self._inner = inner

    def __enter__(self) -> None:
        self._inner.__enter__()

    def __exit__(self, *exc: Any) -> bool | None:
        return self._inner.__exit__(*exc)

    async def __aenter__(self) -> None:
        self._inner.__enter__()

    async def __aexit__(self, *exc: Any) -> bool | None:
        return self._inner.__exit__(*exc)


def _check_slow(query: str, start: float) -> None:
    limit = state.slow_ms
    if limit is None:
        return
    took = (monotonic() - start) * 1000
    if took >= limit:
        slow_logger.warning(
            "slow query %s: %.1f ms (%s=%g)", query_name(query), took, SLOW_QUERY_VARIABLE, limit
        )


def _recording() -> bool:
    """Whether an SDK is configured: without one (OpenTelemetry's proxy or no-op provider)
    spans record nothing, so none is started (they would cost ~13 µs a query for nothing)."""
    return not isinstance(_get_provider(), _SILENT_PROVIDERS)


@contextmanager
def _span(name: str, attributes: dict[str, Any]) -> Iterator[None]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with state.tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
    ) as span:
        try:
            yield
        except BaseException as exc:
            span.record_exception(exc)
            sqlstate = getattr(exc, "sqlstate", None)
            span.set_attribute("error.type", sqlstate or type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def _attributes(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any] | None, query: str | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"db.system.name": "postgresql"}
    if conn is not None and not conn.closed:
        info = conn.info
        attributes["db.namespace"] = info.dbname
        attributes["server.address"] = info.host
        if info.port:
            attributes["server.port"] = int(info.port)
    if query is not None:
        attributes["db.operation.name"] = _operation(query)
        attributes["db.query.summary"] = query_name(query)
        attributes["db.query.text"] = query
    return attributes


def _tracer() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise ConfigError(
            f"{TRACING_VARIABLE} needs OpenTelemetry: pip install 'codex-db[otel]'"
            " (opentelemetry-api), and an SDK configured by the application"
        ) from None
    from codex_db import __version__

    global _SILENT_PROVIDERS, _get_provider
    _SILENT_PROVIDERS = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    _get_provider = trace.get_tracer_provider
    return trace.get_tracer("codex_db", __version__)


_SILENT_PROVIDERS: tuple[type, ...] = ()
_get_provider: Any = None


def _from_env() -> None:
    tracing = os.environ.get(TRACING_VARIABLE, "").strip().lower()
    if tracing not in ("", "0", "1", "true", "false", "on", "off"):
        raise ConfigError(f"{TRACING_VARIABLE}={tracing!r} is not valid: use 1 or 0")
    slow = os.environ.get(SLOW_QUERY_VARIABLE, "").strip()
    try:
        slow_ms = float(slow) if slow else None
    except ValueError:
        raise ConfigError(
            f"{SLOW_QUERY_VARIABLE}={slow!r} is not a number of milliseconds (e.g. 200)"
        ) from None
    if tracing in ("1", "true", "on") or slow_ms:
        configure(tracing=tracing in ("1", "true", "on"), slow_query_ms=slow_ms or 0)


_from_env()
