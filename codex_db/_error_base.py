"""The root of codex-db's own errors, importable without psycopg (the sqlc plugin uses it)."""

from __future__ import annotations

__all__ = ["CodexDBError"]


class CodexDBError(Exception):
    """Base class of every error raised by codex-db itself."""

    __module__ = "codex_db"
