"""codex-db's own errors.

Database errors stay psycopg's: catch ``psycopg.errors.UniqueViolation`` and
friends, or use the helpers in this module. Our own failures form a small tree
under `CodexDBError`; where a failure is a database-level one, the class also
subclasses the matching psycopg class.
"""

from __future__ import annotations

import psycopg

__all__ = [
    "CodexDBError",
    "ConfigError",
    "MigrationError",
    "ServerError",
]


class CodexDBError(Exception):
    """Base class of every error raised by codex-db itself."""

    __module__ = "codex_db"


class ConfigError(CodexDBError):
    """The configuration (environment variables or arguments) is invalid.

    The message names the variable or argument and how to fix it.
    """

    __module__ = "codex_db"


class ServerError(CodexDBError, psycopg.OperationalError):
    """The embedded PostgreSQL server could not be started or reached."""

    __module__ = "codex_db"


class MigrationError(CodexDBError):
    """Migrations could not be read, applied or rolled back."""

    __module__ = "codex_db"
