"""`KeepReaderConnection`: psycopg's `AsyncConnection`, waiting for the server more cheaply.

Why this exists: psycopg's ``AsyncConnection.wait()`` (``psycopg.waiting.wait_async``)
registers the socket with ``loop.add_reader()`` before every wait for the server,
removes it afterwards, and arms a 0.1 s timer each time. On a get-by-primary-key
that is most of the gap to asyncpg: two ``epoll_ctl`` per query on asyncio (six,
plus an ``ioctl`` and an ``io_uring_enter``, on uvloop) and 10-16 µs of client CPU
out of ~45. Upstream work on the same cost: psycopg pull requests #1331 and #1332
("Improve Performance of wait_async"). When a psycopg release ships an equivalent,
drop this module and `connection_class()` in ``_pool_async.py`` (the version gate
below already falls back to psycopg's class outside the versions it was verified on).

This subclass keeps the reader registered from one round trip to the next, on the
hot path only: a wait for the socket to become readable, on one of asyncio's
selector loops or on uvloop, outside pipeline mode and without a timeout.
Everything else (writes, COPY back-pressure, pipelines, waits with a timeout, the
recovery after a cancellation, other loops) is handed to psycopg's own ``wait()``,
in the state the generator is in. On uvloop the kept reader is registered again
before each wait (`KeepReaderConnection._rearmed`): uvloop closes its poll handle
after a socket error once it has run the reader, so a reader kept from an earlier
wait could otherwise never fire again and the next query hang; re-registering a
live handle costs no system call, and a closed one is replaced. The reader is removed

- when it fires while nobody waits (a NOTIFY, or the server closing an idle
  connection): so the loop never spins on a readable socket nobody reads;
- on any error or cancellation, and when the connection is no longer OK after a
  round trip (libpq closes the socket when it sees the connection drop);
- before handing a wait to psycopg, in `close()`, and when the connection is
  garbage-collected: a closed socket is never left in the loop's selector, where
  a new socket reusing its number would be ignored.

Without the 0.1 s timer nothing polls a connection closed by another task while a
query waits on it: `close()` wakes that task instead, which then fails as with
psycopg. Code that calls ``loop.add_reader(conn.fileno(), ...)`` itself on a pool
connection (the psycopg2-era LISTEN recipe) would replace the kept reader and hang
the next query; use ``conn.notifies()``, or set ``CODEX_DB_ASYNC_WAIT=psycopg``.

`async_connection_class()` decides which class the async pools use.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import re
from collections.abc import Generator, Mapping
from time import monotonic
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.rows import Row
from psycopg.waiting import Ready, Wait

from codex_db._deadline import DeadlineAsyncConnection, budget, expired
from codex_db.errors import ConfigError

__all__ = [
    "VERIFIED_PSYCOPG",
    "WAIT_VARIABLE",
    "KeepReaderConnection",
    "async_connection_class",
    "verified_psycopg",
]

logger = logging.getLogger("codex_db")

#: Environment variable choosing how async connections wait: ``keep-reader`` (the
#: default, `KeepReaderConnection`) or ``psycopg`` (psycopg's own `AsyncConnection`).
WAIT_VARIABLE = "CODEX_DB_ASYNC_WAIT"
_WAIT_CHOICES = ("keep-reader", "psycopg")

#: The psycopg versions `KeepReaderConnection` was verified on: ``3.3 <= v < 3.4``.
#: Not 3.2: there ``wait()`` has no ``timeout`` and ``notifies(timeout=...)`` relies on
#: ``wait(interval=...)`` waking up empty-handed, which the kept reader never does.
VERIFIED_PSYCOPG = ((3, 3), (3, 4))

RV = TypeVar("RV")

_WAIT_R = Wait.R
_READY_R = Ready.R
_CONN_OK = pq.ConnStatus.OK
_PIPELINE_OFF = pq.PipelineStatus.OFF
_INTERRUPTED = (asyncio.CancelledError, KeyboardInterrupt, SystemExit)
_NOTHING = object()
_SelectorLoop = asyncio.selector_events.BaseSelectorEventLoop
#: How `KeepReaderConnection` waits on a loop: kept reader (asyncio's selector loops),
#: kept reader registered again before each wait (uvloop), or psycopg's way (others).
_SELECTOR_LOOP, _UVLOOP, _OTHER_LOOP = 1, 2, 3
_LOOP_KINDS: dict[type[asyncio.AbstractEventLoop], int] = {}

#: Like psycopg's ``waiting.MAX_BUSY_TIME``: the longest the loop is kept busy by
#: generators that complete without waiting (buffered COPY rows) before yielding.
_MAX_BUSY = 0.005
_last_yield = 0.0
#: What the deadline timer sets on a waiter (ready flags are 1, 2 and 3).
_TIME_UP = -1


def _time_up(waiter: asyncio.Future[int]) -> None:
    if not waiter.done():
        waiter.set_result(_TIME_UP)


def _loop_kind(loop: asyncio.AbstractEventLoop) -> int:
    """How connections wait on *loop*'s class (remembered in `_LOOP_KINDS`)."""
    cls = type(loop)
    if isinstance(loop, _SelectorLoop):
        kind = _SELECTOR_LOOP
    elif cls.__module__.partition(".")[0] == "uvloop":
        kind = _UVLOOP
    else:
        kind = _OTHER_LOOP  # e.g. the proactor loop on Windows: psycopg's own wait
    _LOOP_KINDS[cls] = kind
    return kind


def verified_psycopg(version: str, wait: Any = None) -> bool:
    """Whether `KeepReaderConnection` was verified on psycopg *version*.

    Also checks that *wait* (default: ``psycopg.AsyncConnection.wait``) takes the
    ``timeout`` argument the subclass relies on, in case an early 3.3 lacks it.
    """
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return False
    low, high = VERIFIED_PSYCOPG
    if not low <= (int(match[1]), int(match[2])) < high:
        return False
    wait = psycopg.AsyncConnection.wait if wait is None else wait
    return "timeout" in inspect.signature(wait).parameters


def async_connection_class(
    environ: Mapping[str, str] = os.environ, version: str | None = None
) -> type[psycopg.AsyncConnection[Any]]:
    """The class of the async pools' connections: `KeepReaderConnection` where it is
    verified (*version*, default ``psycopg.__version__``) and not turned off with
    ``CODEX_DB_ASYNC_WAIT=psycopg``; else `DeadlineAsyncConnection` (psycopg's
    `AsyncConnection` waiting its own way, with deadlines and bounded cancellation).

    Raises:
        ConfigError: ``CODEX_DB_ASYNC_WAIT`` has another value.
    """
    choice = environ.get(WAIT_VARIABLE, "").strip().lower() or "keep-reader"
    if choice not in _WAIT_CHOICES:
        raise ConfigError(
            f"{WAIT_VARIABLE}={environ[WAIT_VARIABLE]!r} is not valid:"
            f" use {' or '.join(_WAIT_CHOICES)}, or leave it unset"
        )
    version = psycopg.__version__ if version is None else version
    if choice == "psycopg":
        return DeadlineAsyncConnection
    if not verified_psycopg(version):
        logger.debug("psycopg %s: async connections wait the psycopg way", version)
        return DeadlineAsyncConnection
    return KeepReaderConnection


class _Reader:
    """The loop's reader callback for one connection's socket, and the task waiting on it."""

    __slots__ = ("fd", "loop", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop: asyncio.AbstractEventLoop | None = loop
        self.fd = fd
        self.waiter: asyncio.Future[int] | None = None

    def __call__(self) -> None:
        waiter = self.waiter
        if waiter is None:
            # Readable with nobody waiting: stop watching until the next wait.
            self.remove()
        elif not waiter.done():
            waiter.set_result(_READY_R)

    def remove(self) -> None:
        loop, self.loop = self.loop, None
        if loop is not None:
            # The loop may be closed, or the socket already (asyncio ignores EBADF).
            with contextlib.suppress(Exception):
                loop.remove_reader(self.fd)


class _Rest:
    """The rest of a psycopg generator, for psycopg's own ``wait()``.

    The first ``next()`` raises *exc*, if given (so psycopg's ``wait()`` runs its
    cancellation recovery), then one returns the state the generator waits in;
    after that it drives the generator, as ``next()`` on the generator itself would.
    """

    __slots__ = ("exc", "gen", "state")

    def __init__(
        self, gen: Generator[Any, Any, Any], state: Any, exc: BaseException | None = None
    ) -> None:
        self.gen = gen
        self.state = state
        self.exc = exc

    def __iter__(self) -> _Rest:
        return self

    def __next__(self) -> Any:
        exc = self.exc
        if exc is not None:
            self.exc = None
            raise exc
        state = self.state
        if state is _NOTHING:
            return next(self.gen)
        self.state = _NOTHING
        return state

    def send(self, ready: Any) -> Any:
        return self.gen.send(ready)


class KeepReaderConnection(DeadlineAsyncConnection[Row]):
    """An `AsyncConnection` that keeps its socket's reader registered between round trips.

    The async pools use it (see `async_connection_class`); connect with it directly
    to get the same on a connection of your own. Deadlines and cancellation behave
    as in `DeadlineAsyncConnection`; on the hot path the deadline is one loop timer.
    """

    _codex_reader: _Reader | None = None

    async def wait(
        self,
        gen: Generator[Any, Any, RV],
        interval: float = 0.1,
        timeout: float | None = None,
    ) -> RV:
        global _last_yield
        loop = asyncio.get_running_loop()
        limit, current = budget(self, timeout)
        kind = _LOOP_KINDS.get(type(loop))
        if kind is None:
            kind = _loop_kind(loop)
        if (
            kind == _OTHER_LOOP
            or (limit is not None and current is None)
            or self.pgconn.pipeline_status != _PIPELINE_OFF
        ):
            self._drop_reader()
            return await super().wait(gen, interval, timeout)
        try:
            state = next(gen)
        except StopIteration as ex:
            # Done without waiting: yield to the loop now and then, as psycopg does.
            if monotonic() - _last_yield >= _MAX_BUSY:
                await asyncio.sleep(0)
                _last_yield = monotonic()
            return ex.value  # type: ignore[no-any-return]
        except BaseException:
            self._drop_reader()  # e.g. the query could not be sent: the socket may be gone
            raise

        while True:
            if state != _WAIT_R:
                # Writing (big parameters, COPY): psycopg's way, from this state on.
                self._drop_reader()
                return await super().wait(_Rest(gen, state), interval, timeout)  # type: ignore[arg-type]
            reader = self._reader(loop) if kind == _SELECTOR_LOOP else self._rearmed(loop)
            waiter = reader.waiter = loop.create_future()
            timer = None if current is None else loop.call_at(current[0], _time_up, waiter)
            try:
                ready = await waiter
            except _INTERRUPTED as ex:
                reader.waiter = None
                self._drop_reader()
                # Abandons the connection (bounded: no waiting for the server).
                return await super().wait(_Rest(gen, state, ex), interval, timeout)  # type: ignore[arg-type]
            except BaseException:
                reader.waiter = None
                self._drop_reader()
                raise
            finally:
                if timer is not None:
                    timer.cancel()
            reader.waiter = None
            if ready == _TIME_UP and current is not None:
                self._drop_reader()
                raise expired(self, current)
            _last_yield = monotonic()
            try:
                state = gen.send(ready)
            except StopIteration as ex:
                if self.pgconn.status != _CONN_OK:
                    self._drop_reader()  # libpq may have closed the socket
                return ex.value  # type: ignore[no-any-return]
            except BaseException:
                self._drop_reader()
                raise

    async def close(self) -> None:
        waiter = self._drop_reader()
        try:
            await super().close()
        finally:
            if waiter is not None and not waiter.done():
                # A task waits on the connection just closed: let it find out.
                waiter.set_result(_READY_R)

    def __del__(self, *args: Any) -> None:
        reader = self.__dict__.get("_codex_reader")
        if reader is not None:
            reader.remove()
        super().__del__(*args)

    def _reader(self, loop: asyncio.AbstractEventLoop) -> _Reader:
        """This connection's reader on *loop*, registered."""
        reader = self._codex_reader
        if reader is not None and reader.loop is loop:
            return reader
        if reader is not None:
            reader.remove()
        fd = self.pgconn.socket
        reader = self._codex_reader = _Reader(loop, fd)
        try:
            loop.add_reader(fd, reader)
        except OSError as ex:
            self._codex_reader = None
            raise psycopg.OperationalError("connection socket closed") from ex
        return reader

    def _rearmed(self, loop: asyncio.AbstractEventLoop) -> _Reader:
        """This connection's reader on *loop* (uvloop), registered again before each wait.

        uvloop closes its poll handle after a socket error (POLLERR), once it has run the
        reader, and keeps the closed handle: a reader kept from an earlier wait may then
        never fire, although the data of that wait was read. Registering the same reader
        again costs no system call while the handle lives, and raises `RuntimeError` once
        it is closed: then the dead handle is removed and the reader registered afresh.
        """
        reader = self._codex_reader
        if reader is None or reader.loop is not loop:
            return self._reader(loop)
        try:
            loop.add_reader(reader.fd, reader)
        except RuntimeError:  # "the handler is closed": uvloop dropped it after an error
            self._drop_reader()
            return self._reader(loop)
        return reader

    def _drop_reader(self) -> asyncio.Future[int] | None:
        """Unregister the reader; return the future of a task waiting on it, if any."""
        reader = self._codex_reader
        if reader is None:
            return None
        self._codex_reader = None
        reader.remove()
        return reader.waiter
