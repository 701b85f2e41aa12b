"""What a measured peer is: a runner that times one batch of operations.

Every peer of a workload gets the same arguments in a round (the same ids, the
same rows to insert) and returns the seconds its batch took, measured inside
the runner so that an event loop's entry or a subprocess start is not counted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any, Protocol
from uuid import UUID

__all__ = [
    "AsyncRunner",
    "Context",
    "Runner",
    "SyncRunner",
    "TasksRunner",
    "ThreadsRunner",
    "new_loop",
]


@dataclass
class Context:
    """The prepared database and what the workloads pick their arguments from."""

    url: str
    """The benchmark database (100k content rows)."""
    ids: list[UUID]
    """Primary keys of the loaded content rows."""
    slugs: list[tuple[str, str]]
    """``(creator_id, slug)`` of personal content rows."""
    cursors: list[tuple[datetime, UUID]]
    """``(published_at, id)`` of published rows: keyset pagination starting points."""
    pgbench: Path | None
    """The ``pgbench`` binary, when found."""
    smoke: bool
    scale: dict[str, Context] = field(default_factory=dict)
    """The scale workloads' databases by label (e.g. ``10k``, ``1M``)."""
    loop_policy: str = "asyncio"


class Runner(Protocol):
    """One peer set up for one workload."""

    def batch(self, args: Sequence[Any]) -> float:
        """Run one operation per argument; return the elapsed seconds (or the measured value)."""
        ...

    def close(self) -> None:
        """Release connections and loops."""
        ...


def _nothing() -> None:
    return None


class SyncRunner:
    """Calls ``op(arg)`` for each argument on the calling thread."""

    def __init__(self, op: Callable[[Any], object], close: Callable[[], object] = _nothing) -> None:
        self._op = op
        self._close = close

    def batch(self, args: Sequence[Any]) -> float:
        op = self._op
        start = perf_counter()
        for arg in args:
            op(arg)
        return perf_counter() - start

    def close(self) -> None:
        self._close()


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A fresh event loop: ``asyncio`` (the default selector loop) or ``uvloop``."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class AsyncRunner:
    """Awaits ``op(arg)`` for each argument, in a loop owned by the runner.

    *setup* runs in that loop first and returns the op (connections are bound to
    the loop they were opened in); *teardown* runs when the runner closes.
    """

    def __init__(
        self,
        loop_kind: str,
        setup: Callable[[], Awaitable[Callable[[Any], Awaitable[object]]]],
        teardown: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._loop = new_loop(loop_kind)
        self._op = self._loop.run_until_complete(setup())
        self._teardown = teardown

    async def _timed(self, args: Sequence[Any]) -> float:
        op = self._op
        start = perf_counter()
        for arg in args:
            await op(arg)
        return perf_counter() - start

    def batch(self, args: Sequence[Any]) -> float:
        return self._loop.run_until_complete(self._timed(args))

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run *coro* in the runner's loop (set-up helpers)."""
        return self._loop.run_until_complete(coro)

    def close(self) -> None:
        if self._teardown is not None:
            self._loop.run_until_complete(self._teardown())
        self._loop.close()


class ThreadsRunner:
    """Splits the arguments over *workers* threads, each calling ``op(arg)``.

    The threads live as long as the runner; the time runs from releasing them
    to the last one finishing.
    """

    def __init__(
        self,
        workers: int,
        op: Callable[[Any], object],
        close: Callable[[], object] = _nothing,
    ) -> None:
        self._workers = workers
        self._op = op
        self._close = close
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="bench")

    def _work(self, gate: threading.Barrier, chunk: Sequence[Any]) -> None:
        op = self._op
        gate.wait()
        for arg in chunk:
            op(arg)

    def batch(self, args: Sequence[Any]) -> float:
        gate = threading.Barrier(self._workers + 1)
        chunks = [args[i :: self._workers] for i in range(self._workers)]
        futures = [self._pool.submit(self._work, gate, chunk) for chunk in chunks]
        gate.wait()
        start = perf_counter()
        for future in futures:
            future.result()
        return perf_counter() - start

    def close(self) -> None:
        self._pool.shutdown()
        self._close()


class TasksRunner(AsyncRunner):
    """Splits the arguments over *workers* tasks in the runner's loop."""

    def __init__(
        self,
        workers: int,
        loop_kind: str,
        setup: Callable[[], Awaitable[Callable[[Any], Awaitable[object]]]],
        teardown: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(loop_kind, setup, teardown)
        self._workers = workers

    async def _chunk(self, chunk: Sequence[Any]) -> None:
        op = self._op
        for arg in chunk:
            await op(arg)

    async def _timed(self, args: Sequence[Any]) -> float:
        chunks = [args[i :: self._workers] for i in range(self._workers)]
        start = perf_counter()
        await asyncio.gather(*(self._chunk(chunk) for chunk in chunks))
        return perf_counter() - start
