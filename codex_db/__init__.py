"""codex-db: the Codex platform's PostgreSQL schema, migrations and typed queries.

The clients are ``db_http`` (autocommit; ``db`` is an alias) and ``db_ws``
(transactions), configured from the environment on first use, and their asyncio
twins ``adb_http``/``adb``/``adb_ws``; ``sql`` is `psycopg.sql`, for composing
ad-hoc statements safely.
"""

from __future__ import annotations

from psycopg import sql

from codex_db import retry, triggers
from codex_db._pool_base import PoolOptions
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
from codex_db.config import DBMethod, Pooler, Settings
from codex_db.errors import (
    CodexDBError,
    ConfigError,
    CopyDataError,
    DatabaseConnectionError,
    MigrationError,
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
    "IsolationLevel",
    "MigrationError",
    "Page",
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
