"""The migration files as a history: add one by hand, drop a wrong one, untangle branches.

yoyo orders migrations by their ``-- depends:`` lines, not their numbers, so two
branches that each add ``0007.*`` on top of ``0006`` both apply, in an order
nobody chose. `collisions()` finds migrations that share a number or a parent
and says whether they commute (touch disjoint objects) or conflict;
`renumber()` moves a branch's own migrations after the others.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
from yoyo import read_migrations
from yoyo.migrations import heads

from codex_db.errors import CodexDBError
from codex_db.project import Project

__all__ = [
    "Collision",
    "HistoryError",
    "collisions",
    "drop_migration",
    "new_migration",
    "next_number",
    "own_migrations",
    "renumber",
    "slug",
    "touched",
]

_DEPENDS = re.compile(r"^--\s*depends\s*:(?P<ids>.*)$", re.M | re.I)
_NUMBER = re.compile(r"^(\d+)\.")
_IDENT = r'(?:"?[\w$]+"?\.)?"?(?P<name>[\w$]+)"?'
_OBJECT = re.compile(
    r"\b(?:create|alter|drop|comment on)\s+(?:or\s+replace\s+)?(?:unique\s+)?(?:materialized\s+)?"
    r"(?:table|index|type|function|procedure|view|trigger|sequence|domain|extension)\s+"
    r"(?:concurrently\s+)?(?:if\s+(?:not\s+)?exists\s+)?" + _IDENT,
    re.I,
)
_ON = re.compile(r"\bon\s+(?:only\s+)?" + _IDENT, re.I)
_DML = re.compile(
    r"\b(?:insert\s+into|update|delete\s+from|references)\s+(?:only\s+)?" + _IDENT, re.I
)


class HistoryError(CodexDBError):
    """A migration file cannot be added, dropped or renumbered as asked."""


class Collision(msgspec.Struct, frozen=True):
    """Two migrations that share a number or a parent, and whether their order matters."""

    first: Path
    second: Path
    kind: str
    """``"number"`` (the same ``NNNN``) or ``"parent"`` (the same ``-- depends:``)."""
    shared: list[str]
    """The objects both touch (empty: they commute)."""

    @property
    def commutes(self) -> bool:
        """Whether applying them in either order gives the same schema (disjoint objects)."""
        return not self.shared

    def describe(self, root: Path) -> str:
        """One paragraph: which files, why, commute or conflict, and the fix."""
        what = "share the number" if self.kind == "number" else "depend on the same migration"
        verdict = (
            "they commute (they touch disjoint objects), but the order is still undefined"
            if self.commutes
            else f"they CONFLICT: both touch {', '.join(self.shared)}"
        )
        return (
            f"{_rel(self.first, root)} and {_rel(self.second, root)} {what} (two branches"
            f" merged?): {verdict}; run `codex-db renumber` on the branch that came second"
        )


def new_migration(project: Project, name: str, *, transactional: bool = True) -> tuple[Path, Path]:
    """Write an empty migration pair for SQL written by hand (Drizzle's ``generate --custom``).

    It is numbered after the last migration and depends on the current heads.
    """
    existing = read_migrations(str(project.migrations))
    depends = " ".join(sorted(m.id for m in heads(existing)))
    mid = f"{next_number(str(m.id) for m in existing):04d}.{slug(name)}"
    path = project.migrations / f"{mid}.sql"
    rollback = project.migrations / f"{mid}.rollback.sql"
    if path.exists() or rollback.exists():
        raise HistoryError(f"{path} already exists")
    header = [f"-- {name}: written by hand (codex-db new)."]
    if not transactional:
        header.append("-- transactional: false")
    if depends:
        header.append(f"-- depends: {depends}")
    path.write_text("\n".join(header) + "\n\n-- your SQL here\n")
    rollback.write_text(f"-- Rollback of {mid}: undo the statements above, in reverse order.\n")
    return path, rollback


def drop_migration(
    project: Project, migration_id: str | None, *, applied: Callable[[str], bool]
) -> list[Path]:
    """Delete the latest migration (or *migration_id*) and its rollback; return the files.

    Only a head (no other migration depends on it) that *applied* says is not
    applied may go: a wrong ``gen`` is undone without ``rm``, never history.
    """
    migrations = read_migrations(str(project.migrations))
    tops = sorted((m for m in heads(migrations)), key=lambda m: str(m.id))
    if migration_id is None:
        if not tops:
            raise HistoryError(f"no migration in {project.migrations} to drop")
        if len(tops) > 1:
            listed = ", ".join(str(m.id) for m in tops)
            raise HistoryError(f"several latest migrations ({listed}): name the one to drop")
        migration_id = str(tops[0].id)
    ids = {str(m.id) for m in migrations}
    if migration_id not in ids:
        raise HistoryError(f"no migration {migration_id!r} in {project.migrations}")
    users = [str(m.id) for m in migrations if migration_id in {str(d.id) for d in m.depends}]
    if users:
        raise HistoryError(
            f"{migration_id} cannot be dropped: {', '.join(users)} depend(s) on it"
            " (drop those first)"
        )
    if applied(migration_id):
        raise HistoryError(
            f"{migration_id} is applied to the configured database: roll it back first"
            f" (codex-db rollback --to <the one before>), then drop it"
        )
    files = [
        project.migrations / f"{migration_id}.sql",
        project.migrations / f"{migration_id}.rollback.sql",
    ]
    for path in files:
        path.unlink(missing_ok=True)
    return files


def collisions(project: Project) -> list[Collision]:
    """Migrations that share a number or a ``-- depends:`` parent, pairwise."""
    files = project.migration_files()
    found: list[Collision] = []
    seen: set[tuple[Path, Path]] = set()
    for kind, key in (("number", _number_of), ("parent", _parents_of)):
        groups: dict[str, list[Path]] = {}
        for path in files:
            for value in key(path):
                groups.setdefault(value, []).append(path)
        for paths in groups.values():
            for i, first in enumerate(paths):
                for second in paths[i + 1 :]:
                    if (first, second) in seen:
                        continue
                    seen.add((first, second))
                    shared = sorted(touched(first) & touched(second))
                    found.append(Collision(first, second, kind, shared))
    return found


def touched(path: Path) -> set[str]:
    """The objects a migration creates, alters, drops or writes to, by name (approximate)."""
    text = re.sub(r"--[^\n]*", "", path.read_text())
    names = {m["name"].lower() for pattern in (_OBJECT, _ON, _DML) for m in pattern.finditer(text)}
    return names - {"public"}


def own_migrations(project: Project, onto: str) -> list[str]:
    """The ids of the migrations the current git branch adds compared with *onto* (a git ref)."""
    folder = project.migrations
    done = subprocess.run(  # noqa: S603 - git, no shell
        ["git", "ls-tree", "--name-only", onto, "--", "."],  # noqa: S607 - git from PATH
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise HistoryError(
            f"cannot list migrations at {onto!r}: {done.stderr.strip()} (pass the branch the"
            " others came from with --onto, or name the migrations to move)"
        )
    theirs = {Path(line).name for line in done.stdout.splitlines()}
    return [p.name.removesuffix(".sql") for p in project.migration_files() if p.name not in theirs]


def renumber(project: Project, moving: Iterable[str]) -> list[tuple[str, str]]:
    """Move the migrations *moving* after all the others; fix their numbers and ``-- depends:``.

    Returns ``(old id, new id)`` pairs. The moved migrations keep their order
    among themselves; the first one depends on the heads of the others.
    """
    migrations = read_migrations(str(project.migrations))
    by_id = {str(m.id): m for m in migrations}
    move = [mid for mid in (str(m.id) for m in migrations) if mid in set(moving)]
    unknown = set(moving) - set(by_id)
    if unknown:
        raise HistoryError(f"no such migration(s): {', '.join(sorted(unknown))}")
    staying = [m for m in migrations if str(m.id) not in move]
    stay_ids = {str(m.id) for m in staying}
    staying_heads = sorted(
        str(m.id)
        for m in staying
        if not any(str(m.id) in {str(d.id) for d in o.depends} for o in staying)
    )
    number = next_number(stay_ids)
    renamed: dict[str, str] = {}
    for offset, mid in enumerate(move):
        tail = mid.split(".", 1)[1] if "." in mid else mid
        renamed[mid] = f"{number + offset:04d}.{tail}"
    for mid in move:
        old_depends = [str(d.id) for d in by_id[mid].depends]
        depends = [renamed[d] for d in old_depends if d in renamed]
        if not depends:
            depends = staying_heads
        _rewrite(project, mid, renamed[mid], depends)
    return [(mid, renamed[mid]) for mid in move]


def _rewrite(project: Project, old: str, new: str, depends: list[str]) -> None:
    for suffix in (".sql", ".rollback.sql"):
        path = project.migrations / f"{old}{suffix}"
        if not path.exists():
            continue
        text = path.read_text()
        if suffix == ".sql":
            line = f"-- depends: {' '.join(depends)}"
            text = _DEPENDS.sub(line, text, count=1) if _DEPENDS.search(text) else f"{line}\n{text}"
        text = text.replace(old, new)
        (project.migrations / f"{new}{suffix}").write_text(text)
        path.unlink()


def _number_of(path: Path) -> list[str]:
    match = _NUMBER.match(path.name)
    return [match.group(1)] if match else []


def _parents_of(path: Path) -> list[str]:
    match = _DEPENDS.search(path.read_text())
    return sorted(match["ids"].split()) if match else []


def next_number(ids: Iterable[str]) -> int:
    """The number after the highest ``NNNN`` of *ids* (1 for none)."""
    numbers = [int(m.group(1)) for i in ids if (m := re.match(r"(\d+)", i))]
    return max(numbers, default=0) + 1


def slug(name: str) -> str:
    """*name* as a migration file's slug: ``add content subtitle`` -> ``add_content_subtitle``."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return text or "change"


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
