"""Where the schema, queries and migrations live."""

from __future__ import annotations

from pathlib import Path

__all__ = ["migrations_dir", "project_root", "queries_dir", "sql_dir"]

_PACKAGE = Path(__file__).resolve().parent


def project_root() -> Path:
    """The source checkout holding ``sql/`` and ``migrations/``, or the packaged copy.

    In a checkout (or an editable install) these are the top-level folders;
    an installed wheel carries a copy under ``codex_db/_data``.
    """
    checkout = _PACKAGE.parent
    if (checkout / "migrations").is_dir() and (checkout / "sql").is_dir():
        return checkout
    return _PACKAGE / "_data"


def sql_dir() -> Path:
    """The declarative schema: ``sql/*.sql``, applied in file-name order."""
    return project_root() / "sql"


def migrations_dir() -> Path:
    """The yoyo migrations: ``migrations/NNNN.slug.sql`` plus ``.rollback.sql``."""
    return project_root() / "migrations"


def queries_dir() -> Path:
    """The named queries sqlc compiles: ``queries/*.sql``."""
    return project_root() / "queries"
