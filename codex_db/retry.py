"""Retrying whole transactions on serialization failures and deadlocks.

PostgreSQL aborts a transaction with SQLSTATE 40001 (``serialization_failure``,
under ``SERIALIZABLE``/``REPEATABLE READ``) or 40P01 (``deadlock_detected``)
when it conflicts with another; the fix is to run the *whole* transaction
again. `codex_db.DatabaseWs.run_transaction` does that with a `RetryPolicy`;
this module holds the policy and the rules, which have no I/O of their own.

Nothing is re-run because of a lost connection: once a statement was sent, the
server may have run it (a ``SELECT`` too: ``nextval()``, a function that writes),
so the error is raised. The clients instead find a dead pooled connection before
sending anything on it, and replace it (see `codex_db.DatabaseWs`).
"""

from __future__ import annotations

import random

import msgspec

from codex_db._pool_base import is_connection_lost
from codex_db.errors import find_database_error

__all__ = [
    "RETRYABLE_SQLSTATES",
    "RetryPolicy",
    "is_connection_lost",
    "is_transient_conflict",
]

is_connection_lost.__module__ = __name__  # decided in codex_db._pool_base

#: 40001 serialization_failure, 40P01 deadlock_detected: re-running the transaction fixes them.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often and how long to wait before re-running a transaction that lost a conflict.

    The waits use "full jitter" exponential backoff: before attempt *n* + 1,
    a random time between 0 and ``min(max_delay, base_delay * 2**n)``, so
    competing clients spread out instead of colliding again.
    """

    attempts: int = 5
    """How many times the transaction may run in all (1: no retry)."""
    base_delay: float = 0.01
    max_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether to run again after *attempt* (1-based) failed with *error*."""
        return attempt < self.attempts and is_transient_conflict(error)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed *attempt* (1-based), jittered."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


def is_transient_conflict(error: BaseException) -> bool:
    """Whether *error* (or an error it wraps) is a serialization failure or a deadlock."""
    found = find_database_error(error)
    return found is not None and found.sqlstate in RETRYABLE_SQLSTATES
