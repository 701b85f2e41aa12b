"""What sync and async transaction blocks share: `Rollback`, options, ``SET LOCAL`` settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, LiteralString, NoReturn

import msgspec
import psycopg
from psycopg import IsolationLevel

from codex_db._pool_base import milliseconds

if TYPE_CHECKING:
    from codex_db.transaction import Transaction
    from codex_db.transaction_async import AsyncTransaction

__all__ = ["Ended", "IsolationLevel", "Rollback", "TransactionOptions", "set_local_query"]


class Rollback(Exception):  # noqa: N818 - named like psycopg.Rollback, not an error
    """Raise it to leave a transaction block and roll it back, without an error.

    ``raise Rollback()`` rolls back the innermost block; ``raise Rollback(tx)``
    rolls back up to the block that produced *tx*.
    """

    __module__ = "codex_db"

    def __init__(self, transaction: Transaction | AsyncTransaction | None = None) -> None:
        super().__init__(transaction)
        self.transaction = transaction


class TransactionOptions(msgspec.Struct, frozen=True):
    """Options of an outermost transaction (a savepoint takes none).

    The first three go into ``BEGIN``. The timeouts, in seconds, are set with
    ``SET LOCAL`` right after it, so they end with the transaction and are safe
    behind a transaction pooler.
    """

    __module__ = "codex_db.transaction"

    isolation_level: IsolationLevel | None = None
    read_only: bool | None = None
    deferrable: bool | None = None
    statement_timeout: float | None = None
    lock_timeout: float | None = None
    idle_in_transaction_session_timeout: float | None = None
    deadline: float | None = None
    """Client-side limit in seconds for the whole block, from ``BEGIN`` to ``COMMIT``
    (the client's own ``deadline`` still applies; the sooner wins)."""

    @property
    def sets_begin(self) -> bool:
        """Whether any of the ``BEGIN`` options (isolation level, read only, deferrable) is set."""
        return not (
            self.isolation_level is None and self.read_only is None and self.deferrable is None
        )

    def local_settings(self, defaults: Mapping[str, str]) -> dict[str, str]:
        """The ``SET LOCAL`` settings of this transaction: its timeouts over *defaults*."""
        settings = dict(defaults)
        for name in _TIMEOUTS:
            value = getattr(self, name)
            if value is not None:
                settings[name] = milliseconds(value)
        return settings


_TIMEOUTS: tuple[LiteralString, ...] = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
)


def set_local_query(settings: Mapping[str, str]) -> tuple[LiteralString, list[str]]:
    """One statement that does ``SET LOCAL`` for each of *settings* (known timeout names only)."""
    unknown = set(settings) - set(_TIMEOUTS)
    if unknown:
        raise ValueError(f"cannot SET LOCAL {sorted(unknown)}: expected some of {list(_TIMEOUTS)}")
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
    params = [item for pair in settings.items() for item in pair]
    return "SELECT " + calls, params


class Ended:
    """Stands in for the adapter of a transaction whose block has ended."""

    def fail(self) -> NoReturn:
        raise psycopg.ProgrammingError(
            "this transaction block has ended: run statements inside"
            " `with db_ws.transaction() as tx:`, or on db_ws itself"
        )

    def __getattr__(self, name: str) -> Any:
        self.fail()
