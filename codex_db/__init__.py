"""codex-db: the Codex platform's PostgreSQL schema, migrations and typed queries.

The clients are ``db_http`` (autocommit; ``db`` is an alias) and ``db_ws``
(transactions), configured from the environment on first use, and their asyncio
twins ``adb_http``/``adb``/``adb_ws``; ``sql`` is `psycopg.sql`, for composing
ad-hoc statements safely.

Importing ``codex_db`` is cheap: each name below is imported from its module on
first use (PEP 562), so ``import codex_db.codegen`` (what sqlc runs for every
``generate``) loads neither psycopg_pool nor the clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import sql

    from codex_db import retry, triggers
    from codex_db._deadline import deadline
    from codex_db.client import (
        Database,
        DatabaseWs,
        close_db_pool,
        db,
        db_http,
        db_ws,
        test_db_connection,
    )
    from codex_db.client_async import (
        AsyncDatabase,
        AsyncDatabaseWs,
        adb,
        adb_http,
        adb_ws,
        close_adb_pool,
        test_adb_connection,
    )
    from codex_db.config import DBMethod, Pooler, PoolOptions, Settings
    from codex_db.errors import (
        CodexDBError,
        ConfigError,
        CopyDataError,
        DatabaseConnectionError,
        DeadlineExceededError,
        MigrationError,
        PendingMigrationsError,
        PoolExhaustedError,
        ServerError,
        TransactionNotSupportedError,
        get_constraint_name,
        get_error_detail,
        is_check_violation,
        is_foreign_key_violation,
        is_not_null_violation,
        is_unique_violation,
    )
    from codex_db.ids import new_id
    from codex_db.pagination import Page, apaginate, paginate
    from codex_db.retry import RetryPolicy
    from codex_db.transaction import IsolationLevel, Rollback, Transaction
    from codex_db.transaction_async import AsyncTransaction
    from codex_db.triggers import (
        DATABASE_TRIGGERS,
        TriggerMetadata,
        UnknownTriggerError,
        get_all_trigger_names,
        get_trigger_metadata,
        get_triggers_for_table,
    )

__version__ = "0.1.0"

#: Public name -> the module it is imported from.
_LAZY: dict[str, str] = {
    "sql": "psycopg",
    "PoolOptions": "codex_db.config",
    "deadline": "codex_db._deadline",
    "Database": "codex_db.client",
    "DatabaseWs": "codex_db.client",
    "close_db_pool": "codex_db.client",
    "db": "codex_db.client",
    "db_http": "codex_db.client",
    "db_ws": "codex_db.client",
    "test_db_connection": "codex_db.client",
    "AsyncDatabase": "codex_db.client_async",
    "AsyncDatabaseWs": "codex_db.client_async",
    "adb": "codex_db.client_async",
    "adb_http": "codex_db.client_async",
    "adb_ws": "codex_db.client_async",
    "close_adb_pool": "codex_db.client_async",
    "test_adb_connection": "codex_db.client_async",
    "DBMethod": "codex_db.config",
    "Pooler": "codex_db.config",
    "Settings": "codex_db.config",
    "CodexDBError": "codex_db.errors",
    "ConfigError": "codex_db.errors",
    "CopyDataError": "codex_db.errors",
    "DatabaseConnectionError": "codex_db.errors",
    "DeadlineExceededError": "codex_db.errors",
    "MigrationError": "codex_db.errors",
    "PendingMigrationsError": "codex_db.errors",
    "PoolExhaustedError": "codex_db.errors",
    "ServerError": "codex_db.errors",
    "TransactionNotSupportedError": "codex_db.errors",
    "get_constraint_name": "codex_db.errors",
    "get_error_detail": "codex_db.errors",
    "is_check_violation": "codex_db.errors",
    "is_foreign_key_violation": "codex_db.errors",
    "is_not_null_violation": "codex_db.errors",
    "is_unique_violation": "codex_db.errors",
    "new_id": "codex_db.ids",
    "Page": "codex_db.pagination",
    "apaginate": "codex_db.pagination",
    "paginate": "codex_db.pagination",
    "RetryPolicy": "codex_db.retry",
    "IsolationLevel": "codex_db.transaction",
    "Rollback": "codex_db.transaction",
    "Transaction": "codex_db.transaction",
    "AsyncTransaction": "codex_db.transaction_async",
    "DATABASE_TRIGGERS": "codex_db.triggers",
    "TriggerMetadata": "codex_db.triggers",
    "UnknownTriggerError": "codex_db.triggers",
    "get_all_trigger_names": "codex_db.triggers",
    "get_trigger_metadata": "codex_db.triggers",
    "get_triggers_for_table": "codex_db.triggers",
}

#: Submodules re-exported as names (``from codex_db import retry``).
_SUBMODULES = frozenset({"retry", "triggers"})


__all__ = [
    "DATABASE_TRIGGERS",
    "AsyncDatabase",
    "AsyncDatabaseWs",
    "AsyncTransaction",
    "CodexDBError",
    "ConfigError",
    "CopyDataError",
    "DBMethod",
    "Database",
    "DatabaseConnectionError",
    "DatabaseWs",
    "DeadlineExceededError",
    "IsolationLevel",
    "MigrationError",
    "Page",
    "PendingMigrationsError",
    "PoolExhaustedError",
    "PoolOptions",
    "Pooler",
    "RetryPolicy",
    "Rollback",
    "ServerError",
    "Settings",
    "Transaction",
    "TransactionNotSupportedError",
    "TriggerMetadata",
    "UnknownTriggerError",
    "__version__",
    "adb",
    "adb_http",
    "adb_ws",
    "apaginate",
    "close_adb_pool",
    "close_db_pool",
    "db",
    "db_http",
    "db_ws",
    "deadline",
    "get_all_trigger_names",
    "get_constraint_name",
    "get_error_detail",
    "get_trigger_metadata",
    "get_triggers_for_table",
    "is_check_violation",
    "is_foreign_key_violation",
    "is_not_null_violation",
    "is_unique_violation",
    "new_id",
    "paginate",
    "retry",
    "sql",
    "test_adb_connection",
    "test_db_connection",
    "triggers",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"codex_db.{name}")
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'codex_db' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
