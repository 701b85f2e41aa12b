"""Read replicas: where the autocommit client's generated reads go (Drizzle's ``withReplicas``).

Neon read replicas are endpoints of their own (``DATABASE_URL_READ``). A generated
``:one``/``:many`` query whose SQL reads (`is_read`) runs on a replica, round robin;
everything else runs on the primary: writes, transactions, ``batch()``, ad-hoc
statements, and any read through ``db_http.primary`` (read-your-writes).

A read never fails because of a replica. A hot standby runs no write, so a read
that fails there for a reason of the replica's (connection lost or refused, the
pool cannot connect, a query cancelled by recovery, a write that the text made
look like a read, refused as read-only) runs again on the primary; the replica is
left out for `RETRY_AFTER` seconds, then tried again. With ``read_max_lag`` set,
a replica's replay lag is measured every `LAG_EVERY` seconds on one of its
connections (not per query); past the limit its reads go to the primary.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from time import monotonic
from typing import TypeVar

import msgspec
import psycopg
from psycopg_pool import PoolTimeout

from codex_db._conn_async import AsyncConn
from codex_db._pool_async import AsyncConnection, AsyncPoolEngine
from codex_db._pool_base import is_connection_lost, logger
from codex_db.config import PoolOptions, Settings
from codex_db.errors import DatabaseConnectionError, DeadlineExceededError, PoolExhaustedError

__all__ = ["LAG_EVERY", "REPLICA_WAIT", "RETRY_AFTER", "AsyncReplicas", "is_read"]

T = TypeVar("T")

#: Seconds a failed replica is left out before it is tried again.
RETRY_AFTER = 5.0
#: Seconds between two measurements of a replica's replay lag.
LAG_EVERY = 5.0
#: Longest wait for a replica's connection (its pool timeout): a replica that cannot
#: hand one out that soon (restarting, unreachable, busy) sends the read to the primary.
REPLICA_WAIT = 0.5

_READ = re.compile(
    r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*(?:SELECT|WITH|VALUES|TABLE)\b", re.I | re.S
)
#: 40001: a query on a standby cancelled by a conflict with recovery; 25006: a write
#: refused by the read-only standby. Neither ran anything: the primary runs it.
_RETRY_ON_PRIMARY = frozenset({"40001", "25006"})
_LAG = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


@lru_cache(maxsize=4096)
def is_read(query: str) -> bool:
    """Whether *query* goes to a replica: it starts with ``SELECT``/``WITH``/``VALUES``/``TABLE``.

    Only a routing rule: a write that looks like a read (``SELECT nextval(...)``, a
    data-modifying ``WITH``) is refused by the standby without running, and runs on
    the primary.
    """
    return _READ.match(query) is not None


class _Member:
    """One replica: its pool, and whether it is left out (failed, or lagging)."""

    __slots__ = ("down_until", "engine", "lag_due", "lagging")

    def __init__(self, engine: AsyncPoolEngine) -> None:
        self.engine = engine
        self.down_until = 0.0
        self.lag_due = 0.0
        self.lagging = False

    def usable(self, now: float) -> bool:
        return now >= self.down_until and (not self.lagging or now >= self.lag_due)

    def failed(self, error: BaseException) -> None:
        if monotonic() >= self.down_until:
            logger.warning(
                "read replica %s left out for %g s, its reads go to the primary: %s",
                self.engine.describe(),
                RETRY_AFTER,
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            )
        self.down_until = monotonic() + RETRY_AFTER


class AsyncReplicas:
    """The replicas of one client's settings; `run` a read on one of them."""

    def __init__(
        self,
        settings: Settings,
        configure: Callable[[AsyncConnection], Awaitable[None]] | None,
        options: PoolOptions,
    ) -> None:
        self._members = [
            _Member(AsyncPoolEngine(_quick(settings.replica(url)), configure, options))
            for url in settings.read_urls
        ]
        self._max_lag = settings.read_max_lag
        self._next = 0

    def describe(self) -> list[str]:
        """The replicas' redacted URLs."""
        return [m.engine.settings.display_url for m in self._members]

    async def run(self, call: Callable[[AsyncConn], Awaitable[T]]) -> tuple[bool, T | None]:
        """``(True, result)`` of *call* on a replica, or ``(False, None)``: the primary runs it."""
        member = self._pick()
        if member is None:
            return False, None
        try:
            async with member.engine.checkout() as conn:
                if not await self._fresh(member, conn):
                    return False, None
                return True, await call(AsyncConn.of(conn))
        except DeadlineExceededError as exc:
            member.failed(exc)  # a silent replica: the caller's time is up, the next reads avoid it
            raise
        except psycopg.Error as exc:
            if exc.sqlstate in _RETRY_ON_PRIMARY:
                return False, None
            if _replica_failed(exc):
                member.failed(exc)
                return False, None
            raise

    async def close(self) -> None:
        for member in self._members:
            await member.engine.close()

    def _pick(self) -> _Member | None:
        members, now = self._members, monotonic()
        count = len(members)
        for step in range(count):
            member = members[(self._next + step) % count]
            if member.usable(now):
                self._next = (self._next + step + 1) % count
                return member
        return None

    async def _fresh(self, member: _Member, conn: AsyncConnection) -> bool:
        """Whether *member* lags less than ``read_max_lag`` (measured every `LAG_EVERY` s)."""
        limit = self._max_lag
        if limit is None:
            return True
        now = monotonic()
        if now >= member.lag_due:
            cursor = await conn.execute(_LAG)
            row = await cursor.fetchone()
            lag = float(row[0]) if row else 0.0
            member.lagging, member.lag_due = lag > limit, now + LAG_EVERY
            if member.lagging:
                logger.info(
                    "read replica %s is %.1f s behind (read_max_lag=%g): reads go to the primary",
                    member.engine.describe(),
                    lag,
                    limit,
                )
        return not member.lagging


def _quick(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, pool_timeout=min(settings.pool_timeout, REPLICA_WAIT))


def _replica_failed(error: BaseException) -> bool:
    """Whether *error* is the replica's (unreachable, lost, out of connections), not the query's."""
    return isinstance(error, DatabaseConnectionError | PoolExhaustedError | PoolTimeout) or (
        is_connection_lost(error)
    )
