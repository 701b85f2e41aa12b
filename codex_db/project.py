"""The folders of a codex-db project: ``sql/``, ``migrations/``, ``queries/``.

Every workflow function (``gen``, ``check``, ``lint``...) takes a `Project`, so
it runs on this checkout, on an installed copy, or on a temporary copy in a test.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from codex_db import _paths

__all__ = ["Project"]


class Project(msgspec.Struct, frozen=True):
    """Paths of one project; build it with `at()` or `default()`."""

    root: Path
    sql: Path
    migrations: Path
    queries: Path

    @classmethod
    def at(cls, root: Path | str) -> Project:
        """The project whose ``sql/``, ``migrations/`` and ``queries/`` are under *root*."""
        base = Path(root).resolve()
        return cls(base, base / "sql", base / "migrations", base / "queries")

    @classmethod
    def default(cls) -> Project:
        """The current directory when it holds ``sql/`` and ``migrations/``, else this package's."""
        cwd = Path.cwd()
        if (cwd / "sql").is_dir() and (cwd / "migrations").is_dir():
            return cls.at(cwd)
        return cls.at(_paths.project_root())

    @property
    def squawk_config(self) -> Path:
        """The squawk configuration: ``.squawk.toml`` at the project root."""
        return self.root / ".squawk.toml"

    def migration_files(self) -> list[Path]:
        """The forward migration files (``NNNN.slug.sql``), in file-name order."""
        return sorted(p for p in self.migrations.glob("*.sql") if not _is_rollback(p))


def _is_rollback(path: Path) -> bool:
    return path.name.endswith(".rollback.sql")
