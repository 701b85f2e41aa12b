"""Where a codex-db project's ``sql/``, ``migrations/`` and ``queries/`` are: the one rule.

A project is a folder holding ``sql/`` and ``migrations/`` (``queries/`` and
``sqlc.yaml`` are optional). Commands that read or write the schema (``gen``,
``check``, ``lint``, ``push``) need one: `Project.require()` finds it in the
current directory or one of its parents, like git finds its repository, and
fails with one line naming what it looked for. Applying migrations works
without a project too: `Project.default()` falls back to the copy this package
carries (`Project.packaged()`), which is the Codex schema itself.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from codex_db._error_base import CodexDBError

__all__ = ["MARKERS", "Project", "ProjectNotFoundError"]

#: The folders that make a directory a project.
MARKERS = ("sql", "migrations")

_PACKAGE = Path(__file__).resolve().parent


class ProjectNotFoundError(CodexDBError):
    """No folder holding ``sql/`` and ``migrations/`` was found."""

    __module__ = "codex_db"


class Project(msgspec.Struct, frozen=True):
    """Paths of one project; build it with `at()`, `require()`, `default()` or `packaged()`."""

    root: Path
    sql: Path
    migrations: Path
    queries: Path

    @classmethod
    def at(cls, root: Path | str) -> Project:
        """The project whose ``sql/``, ``migrations/`` and ``queries/`` are under *root*."""
        base = Path(root).expanduser().resolve()
        return cls(base, base / "sql", base / "migrations", base / "queries")

    @classmethod
    def discover(cls, start: Path | str | None = None) -> Project | None:
        """The project at *start* (default: the current directory) or its nearest parent."""
        here = Path(start or Path.cwd()).expanduser().resolve()
        for folder in (here, *here.parents):
            if all((folder / name).is_dir() for name in MARKERS):
                return cls.at(folder)
        return None

    @classmethod
    def require(cls, start: Path | str | None = None, *, command: str = "this command") -> Project:
        """`discover()`, or `ProjectNotFoundError` naming what was looked for and the fix."""
        found = cls.discover(start)
        if found is None:
            here = Path(start or Path.cwd()).expanduser().resolve()
            raise ProjectNotFoundError(
                f"{command} needs a project directory: no folder holding sql/ and migrations/"
                f" in {here} or its parents (cd into the project, or pass --project DIR)"
            )
        return found

    @classmethod
    def packaged(cls) -> Project:
        """The schema this package carries: the source checkout, or an installed wheel's copy.

        In a checkout (or an editable install) these are the top-level folders;
        an installed wheel carries a copy under ``codex_db/_data``.
        """
        checkout = _PACKAGE.parent
        if all((checkout / name).is_dir() for name in MARKERS):
            return cls.at(checkout)
        return cls.at(_PACKAGE / "_data")

    @classmethod
    def default(cls) -> Project:
        """The project around the current directory, else `packaged()`.

        Use it where the package's own migrations are a sensible answer
        (``migrate``, the embedded default's auto-migrate).
        """
        return cls.discover() or cls.packaged()

    @property
    def is_packaged(self) -> bool:
        """Whether this is the copy inside an installed package (not a project to edit)."""
        return self.root == (_PACKAGE / "_data").resolve()

    @property
    def seeds(self) -> Path:
        """The development data: ``seed/*.sql``, run by ``codex-db seed`` (optional)."""
        return self.root / "seed"

    @property
    def squawk_config(self) -> Path:
        """The squawk configuration: ``.squawk.toml`` at the project root."""
        return self.root / ".squawk.toml"

    @property
    def sqlc_config(self) -> Path:
        """sqlc's configuration: ``sqlc.yaml`` at the project root (optional)."""
        return self.root / "sqlc.yaml"

    def migration_files(self) -> list[Path]:
        """The forward migration files (``NNNN.slug.sql``), in file-name order."""
        return sorted(p for p in self.migrations.glob("*.sql") if not _is_rollback(p))

    def migration_ids(self) -> list[str]:
        """The ids yoyo records the forward migrations under (``0001.auth``), in file-name order.

        yoyo's id is the file name without ``.sql``; its ``post-apply`` hooks run after
        every apply and are never recorded, so they are left out.
        """
        ids = (p.name.removesuffix(".sql") for p in self.migration_files())
        return [i for i in ids if not i.startswith("post-apply")]


def _is_rollback(path: Path) -> bool:
    return path.name.endswith(".rollback.sql")
