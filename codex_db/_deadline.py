"""Client-side deadlines: no call waits on the network longer than it was given.

``statement_timeout``, the pool timeout and TCP keepalives all rely on something
answering; a silent connection (a half-open TCP path, a stalled proxy) answers
nothing, so only the client can give up. Every wait for the server goes through
the connection's ``wait()``; the connection classes here bound it by the
deadline stamped on the connection (`DEADLINE`, a ``time.monotonic()`` instant)
when an engine hands it out for a call or a transaction. Past it, the
connection is abandoned (`abandon`: a cancel request is sent from a background
thread, the socket is closed at once, the pool replaces the connection) and
`codex_db.DeadlineExceededError` is raised.

Where the deadline comes from, the soonest wins: the client's ``deadline``
(`codex_db.PoolOptions.deadline`, default 60 s), ``transaction(deadline=...)``
for a whole transaction, and `deadline()` blocks around any calls.

Cancellation of an async call (``asyncio.timeout``, a cancelled task) is bounded
the same way: psycopg waits up to 10 s for the server to acknowledge a cancel on
the same connection; here the connection is abandoned instead and the
``CancelledError`` propagates at once.
"""

from __future__ import annotations

import asyncio
import logging
import select
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any, TypeVar

import psycopg
from psycopg import errors as e
from psycopg import pq, waiting
from psycopg.rows import Row

from codex_db.errors import DeadlineExceededError

__all__ = [
    "DEADLINE",
    "DeadlineAsyncConnection",
    "DeadlineConnection",
    "abandon",
    "budget",
    "deadline",
    "expired",
    "stamp",
    "tighten",
]

logger = logging.getLogger("codex_db")

#: Attribute of a connection: ``(instant, seconds)``, the ``monotonic()`` time its
#: current call or transaction must end by and the budget that gave it; or None.
DEADLINE = "_codex_db_deadline"

RV = TypeVar("RV")

_block: ContextVar[float | None] = ContextVar("codex_db_deadline", default=None)
_ACTIVE = pq.TransactionStatus.ACTIVE
_INTERRUPTED = (asyncio.CancelledError, KeyboardInterrupt, SystemExit)
_WAIT_INTERVAL = 0.1
Stamp = tuple[float, float]


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Give every database call made in the block *seconds* in all.

    Use it around a request handler's queries, or one call that must answer
    fast: a call still waiting when the time is up raises
    `codex_db.DeadlineExceededError`. Works for sync and async code (the limit
    follows the task or thread, as a context variable). Nested blocks keep the
    sooner end; the client's own ``deadline`` applies as well.
    """
    if seconds <= 0:
        raise ValueError(f"deadline() needs seconds > 0, got {seconds}")
    until = monotonic() + seconds
    outer = _block.get()
    token = _block.set(until if outer is None else min(outer, until))
    try:
        yield
    finally:
        _block.reset(token)


def stamp(conn: Any, seconds: float | None) -> None:
    """Stamp *conn* for a call starting now: *seconds* (the client's), or the
    enclosing `deadline()` block's end if sooner; None when neither applies."""
    outer = _block.get()
    if seconds is None and outer is None:
        setattr(conn, DEADLINE, None)
        return
    now = monotonic()
    until = now + seconds if seconds is not None else float("inf")
    if outer is not None and outer < until:
        until = outer
    setattr(conn, DEADLINE, (until, until - now))


def tighten(conn: Any, seconds: float | None) -> None:
    """Make *conn*'s deadline end within *seconds* from now (a transaction's own limit)."""
    if seconds is None:
        return
    current: Stamp | None = getattr(conn, DEADLINE, None)
    until = monotonic() + seconds
    if current is None or until < current[0]:
        setattr(conn, DEADLINE, (until, seconds))


def abandon(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    """Give *conn* up now: send a cancel for a running query from a background thread
    (bounded by the URL's ``connect_timeout``), and close the socket without waiting."""
    pgconn = conn.pgconn
    if pgconn.status == pq.ConnStatus.BAD:
        return
    if pgconn.transaction_status == _ACTIVE:
        try:
            cancel = pgconn.cancel_conn()
        except (psycopg.Error, AttributeError):
            cancel = None
        if cancel is not None:
            threading.Thread(
                target=_send_cancel, args=(cancel,), daemon=True, name="codex-db-cancel"
            ).start()
    pgconn.finish()


def _send_cancel(cancel: Any) -> None:
    """Deliver a cancel request (non-blocking libpq calls: a blocking one would hold the GIL)."""
    end = monotonic() + _CANCEL_SECONDS
    try:
        cancel.start()
        while (status := cancel.poll()) not in (_POLL_OK, _POLL_FAILED):
            left = end - monotonic()
            if left <= 0:
                logger.debug("cancel request for an abandoned connection timed out")
                return
            events = select.POLLIN if status == _POLL_READING else select.POLLOUT
            poll = select.poll()
            poll.register(cancel.socket, events)
            poll.poll(int(min(left, 0.5) * 1000))
        if status == _POLL_FAILED:
            logger.debug("cancel request for an abandoned connection failed")
    except (psycopg.Error, OSError) as exc:
        logger.debug("cancel request for an abandoned connection failed: %s", exc)
    finally:
        cancel.finish()


_CANCEL_SECONDS = 10.0
_POLL_OK = pq.PollingStatus.OK
_POLL_FAILED = pq.PollingStatus.FAILED
_POLL_READING = pq.PollingStatus.READING


def budget(conn: Any, timeout: float | None) -> tuple[float | None, Stamp | None]:
    """The timeout for one wait: psycopg's own *timeout* or what is left of the deadline."""
    current: Stamp | None = getattr(conn, DEADLINE, None)
    if current is None:
        return timeout, None
    left = max(current[0] - monotonic(), 0.0)
    if timeout is not None and timeout <= left:
        return timeout, None
    return left, current


def expired(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], current: Stamp
) -> Exception:
    """Abandon *conn*, whose deadline passed, and return the error to raise."""
    abandon(conn)
    return DeadlineExceededError(
        f"no answer from the database within the deadline of {current[1]:.3g} s; the"
        " connection was discarded (the statement may or may not have run). Raise it with"
        " deadline= on the client or transaction(), or codex_db.deadline(seconds)"
    )


class DeadlineConnection(psycopg.Connection[Row]):
    """psycopg's `Connection`, whose waits end at the deadline stamped on it.

    The sync pools use it. Without a stamp it behaves exactly as psycopg's.
    """

    def wait(
        self,
        gen: Generator[Any, Any, RV],
        interval: float = _WAIT_INTERVAL,
        timeout: float | None = None,
    ) -> RV:
        limit, current = budget(self, timeout)
        try:
            return super().wait(gen, interval, limit)
        except e._WaitTimeout:
            if current is None:
                raise  # psycopg's own timeout, not the deadline
            raise expired(self, current) from None


class DeadlineAsyncConnection(psycopg.AsyncConnection[Row]):
    """psycopg's `AsyncConnection`, whose waits end at the deadline stamped on it, and
    whose cancellation returns at once (the connection is abandoned, see `abandon`)."""

    async def wait(
        self,
        gen: Generator[Any, Any, RV],
        interval: float = _WAIT_INTERVAL,
        timeout: float | None = None,
    ) -> RV:
        limit, current = budget(self, timeout)
        try:
            return await waiting.wait_async(
                gen, self.pgconn.socket, interval=interval, timeout=limit
            )
        except e._WaitTimeout:
            if current is None:
                raise
            raise expired(self, current) from None
        except _INTERRUPTED:
            abandon(self)
            raise


deadline.__module__ = "codex_db"
DeadlineConnection.__module__ = DeadlineAsyncConnection.__module__ = "codex_db.dbtx"
