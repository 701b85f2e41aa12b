"""yoyo's migration lock: who holds it, waiting for it, and breaking a stale one.

yoyo records the lock as a row of ``yoyo_lock`` (pid and creation time of the
client process). A killed process leaves the row behind. codex-db connects
for migrations with ``application_name=codex-db-migrate:<pid>``, so a lock
whose pid has no such session connected is stale.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.conninfo import make_conninfo
from yoyo.exceptions import LockTimeout

from codex_db.errors import MigrationError

__all__ = ["APP_PREFIX", "LockError", "LockHolder", "StaleLockError", "lock_holder", "locked"]

APP_PREFIX = "codex-db-migrate:"
_POLL = 1.0


class LockError(MigrationError):
    """The migration lock could not be taken or broken."""


class StaleLockError(LockError):
    """A lock is held by a process that is gone; ``migrate --break-lock`` clears it."""


class LockHolder(msgspec.Struct, frozen=True):
    """The row of ``yoyo_lock``: who took the migration lock, and when."""

    pid: int
    since: datetime
    age_seconds: float
    connected: bool
    """Whether a codex-db migrate session of that pid is still connected."""

    @property
    def stale(self) -> bool:
        """True when no session of the holder is connected: nobody will release it."""
        return not self.connected

    def describe(self) -> str:
        """One line naming the pid, the UTC time and the age of the lock."""
        when = self.since.isoformat(sep=" ", timespec="seconds")
        state = "still connected" if self.connected else "not connected (stale lock)"
        age = f"{self.age_seconds:.0f} s ago"
        return f"migration lock held by pid {self.pid} since {when} UTC ({age}), {state}"


def with_app_name(url: str) -> str:
    """*url* with the application name that marks this process's migration sessions."""
    return make_conninfo(url, application_name=f"{APP_PREFIX}{os.getpid()}")


def lock_holder(conn: psycopg.Connection[Any]) -> LockHolder | None:
    """The current holder of the migration lock, or ``None`` when it is free."""
    if conn.execute("SELECT to_regclass('yoyo_lock')").fetchone() in (None, (None,)):
        return None
    row = conn.execute(
        """SELECT l.pid, l.ctime,
                  extract(epoch FROM (now() AT TIME ZONE 'utc') - l.ctime)::float8,
                  EXISTS (SELECT 1 FROM pg_stat_activity a
                          WHERE a.application_name = %s || l.pid::text)
           FROM yoyo_lock l LIMIT 1""",
        (APP_PREFIX,),
    ).fetchone()
    if row is None:
        return None
    return LockHolder(pid=row[0], since=row[1], age_seconds=max(row[2], 0.0), connected=row[3])


def break_lock(conn: psycopg.Connection[Any], *, force: bool = False) -> LockHolder | None:
    """Delete a stale lock row and return its holder (``None``: there was no lock).

    A lock whose holder is still connected is only broken with *force*.
    """
    holder = lock_holder(conn)
    if holder is None:
        return None
    if holder.connected and not force:
        raise LockError(
            f"{holder.describe()}: a migration is running; wait for it to finish"
            " (or stop that process first)"
        )
    with conn.transaction():
        conn.execute("DELETE FROM yoyo_lock WHERE pid = %s", (holder.pid,))
    return holder


@contextmanager
def locked(
    backend: Any,
    url: str,
    *,
    timeout: float = 0,
    on_wait: Callable[[LockHolder], object] | None = None,
) -> Iterator[None]:
    """Hold yoyo's lock on *backend* for the block; fail fast on a stale lock.

    *timeout* 0 waits as long as the holder is connected. *on_wait* is called
    once, with the holder, when the lock is busy.
    """
    pid = os.getpid()
    _acquire(backend, url, pid, timeout, on_wait)
    backend._is_locked = True  # yoyo's own lock() then nests instead of deadlocking
    try:
        yield
    finally:
        backend._is_locked = False
        backend._delete_lock_row(pid)


def _acquire(
    backend: Any,
    url: str,
    pid: int,
    timeout: float,
    on_wait: Callable[[LockHolder], object] | None,
) -> None:
    started = time.monotonic()
    told = False
    while True:
        try:
            backend._insert_lock_row(pid, _POLL)
            return
        except LockTimeout:
            holder = _holder(url)
        if holder is None:
            continue
        if holder.stale:
            raise StaleLockError(
                f"{holder.describe()}: if no migration is running,"
                " break it with `codex-db migrate --break-lock`"
            )
        if timeout and time.monotonic() - started > timeout:
            raise LockError(f"{holder.describe()}: gave up after {timeout:.0f} s; retry later")
        if on_wait and not told:
            on_wait(holder)
            told = True


def _holder(url: str) -> LockHolder | None:
    with psycopg.connect(url, autocommit=True) as conn:
        return lock_holder(conn)
