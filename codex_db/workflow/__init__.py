"""The schema-change workflow: ``sql/`` is the truth, migrations follow it.

`plan()` compares what ``migrations/`` build with what ``sql/`` declares;
`generate()` writes the next migration and proves it reproduces ``sql/`` and
rolls back cleanly; `drift()` is the CI gate; `push()` brings a development
database to ``sql/`` without a migration; `baseline()` marks an existing
database as migrated once its schema is checked. Every function takes the
`Project` (its folders) and a *server_url* where scratch databases are created.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import msgspec
import psycopg
from yoyo import read_migrations
from yoyo.migrations import heads

from codex_db import migrate
from codex_db._dsn import direct_url, display
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import catalog, hazards
from codex_db.workflow.hazards import Hazard
from codex_db.workflow.schemadiff import (
    build_from_migrations,
    build_from_sql,
    diff,
    scratch_database,
    snapshot,
)

__all__ = [
    "DriftError",
    "Generated",
    "Plan",
    "baseline",
    "describe_drift",
    "drift",
    "generate",
    "plan",
    "push",
    "push_plan",
    "regenerate_code",
]

_LABELS = ("sql/", "migrations/")

#: First statement of a generated migration: give up rather than queue behind a
#: long transaction while holding a lock every later query waits for.
LOCK_TIMEOUT = "SET LOCAL lock_timeout = '5s';"


class DriftError(CodexDBError):
    """``migrations/`` do not build the schema ``sql/`` declares (or a database differs)."""


class Plan(msgspec.Struct, frozen=True):
    """The difference between ``migrations/`` and ``sql/``.

    *forward* turns the migrated schema into ``sql/``, *backward* undoes it;
    *differences* are the catalog lines (empty: no drift).
    """

    forward: list[str]
    backward: list[str]
    differences: list[str]
    hazards: list[Hazard]
    before: catalog.Snapshot
    after: catalog.Snapshot

    @property
    def in_sync(self) -> bool:
        """True when the migrations build exactly ``sql/``."""
        return not self.differences and not self.forward


class Generated(msgspec.Struct, frozen=True):
    """A migration written by `generate()`."""

    id: str
    path: Path
    rollback_path: Path
    plan: Plan


def plan(server_url: str, project: Project) -> Plan:
    """Build ``migrations/`` and ``sql/`` in two scratch databases and compare them."""
    with scratch_database(server_url) as current, scratch_database(server_url) as target:
        build_from_migrations(current, project.migrations)
        build_from_sql(target, project.sql)
        forward, backward = diff(current, target), diff(target, current)
        before, after = snapshot(current), snapshot(target)
    differences = catalog.compare(after, before, labels=_LABELS)
    found = hazards.find(forward, before.get("table", {}).keys())
    return Plan(forward, backward, differences, found, before, after)


def drift(server_url: str, project: Project) -> Plan:
    """`plan()`, raising `DriftError` with the missing statements when out of sync."""
    result = plan(server_url, project)
    if result.in_sync:
        return result
    raise DriftError(describe_drift(result))


def generate(server_url: str, project: Project, *, name: str = "change") -> Generated | None:
    """Write ``migrations/NNNN.<name>.sql`` and its rollback; ``None`` when in sync.

    The new migration is verified on a scratch database: applying every
    migration must reproduce ``sql/`` and rolling the new one back must return
    to the previous schema. A migration that fails either check is deleted and
    `DriftError` raised.
    """
    result = plan(server_url, project)
    if result.in_sync:
        return None
    if not result.forward:
        raise DriftError(describe_drift(result))
    migration_id, path, rollback_path = _write(project, name, result)
    try:
        _verify(server_url, project, result)
    except Exception:
        path.unlink(missing_ok=True)
        rollback_path.unlink(missing_ok=True)
        raise
    return Generated(migration_id, path, rollback_path, result)


def regenerate_code(project: Project) -> bool:
    """Run ``sqlc generate`` with the project's ``sqlc.yaml``; ``False`` when it has none.

    Raises `CodexDBError` with sqlc's message when a query does not compile.
    """
    config = project.root / "sqlc.yaml"
    if not config.is_file():
        return False
    from codex_db.codegen.check import sqlc_binary

    done = subprocess.run(  # noqa: S603 - our own sqlc binary, no shell
        [sqlc_binary(), "generate", "-f", str(config)],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CodexDBError(
            f"sqlc generate failed: {done.stderr.strip()} (fix the query, then rerun codex-db gen)"
        )
    return True


def push_plan(url: str, server_url: str, project: Project) -> list[str]:
    """The statements that make the database at *url* match ``sql/`` (empty: it does)."""
    with scratch_database(server_url) as target:
        build_from_sql(target, project.sql)
        return [s for s in diff(url, target) if not _touches_bookkeeping(s)]


def push(url: str, statements: list[str]) -> None:
    """Run *statements* on *url* in one transaction (development databases only)."""
    with psycopg.connect(direct_url(url)) as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement.encode())


def baseline(url: str, server_url: str, project: Project) -> list[str]:
    """Mark every migration applied on *url* after checking its schema matches ``sql/``.

    Use it on a database created by other means (the TypeScript package's
    Drizzle migrations, a restore). Raises `DriftError` listing the
    differences when the schema does not match; nothing is marked then.
    """
    with scratch_database(server_url) as target:
        build_from_sql(target, project.sql)
        expected = snapshot(target)
    differences = catalog.compare(expected, snapshot(direct_url(url)), labels=("sql/", "database"))
    if differences:
        listed = "\n  ".join(differences)
        raise DriftError(
            f"{display(url)} does not match sql/, so it cannot be marked as migrated"
            f" (bring it in line first, e.g. with `codex-db push` on a dev database):\n  {listed}"
        )
    return migrate.mark(url, source=project.migrations)


def _verify(server_url: str, project: Project, result: Plan) -> None:
    with scratch_database(server_url) as url:
        migrate.apply(url, source=project.migrations)  # bookkeeping kept: rollback needs it
        applied = snapshot(url)
        problems = catalog.compare(result.after, applied, labels=_LABELS)
        if problems:
            raise DriftError(_verify_message("applying it does not reproduce sql/", problems))
        migrate.rollback(url, count=1, source=project.migrations)
        problems = catalog.compare(result.before, snapshot(url), labels=("before", "rolled back"))
        if problems:
            raise DriftError(_verify_message("its rollback does not restore the schema", problems))


def _write(project: Project, name: str, result: Plan) -> tuple[str, Path, Path]:
    migrations = read_migrations(str(project.migrations))
    depends = " ".join(sorted(m.id for m in heads(migrations)))
    migration_id = f"{_next_number(str(m.id) for m in migrations):04d}.{_slug(name)}"
    path = project.migrations / f"{migration_id}.sql"
    rollback_path = project.migrations / f"{migration_id}.rollback.sql"
    header = [f"-- {name}: generated by `codex-db gen` from sql/; review before applying."]
    header += [f"-- REVIEW {h.describe()}" for h in result.hazards]
    if depends:
        header.append(f"-- depends: {depends}")
    path.write_text("\n".join(header) + "\n\n" + _script([LOCK_TIMEOUT, *result.forward]))
    rollback_path.write_text(
        f"-- Rollback of {migration_id}: generated by `codex-db gen` (the reverse diff).\n\n"
        + _script([LOCK_TIMEOUT, *result.backward])
    )
    return migration_id, path, rollback_path


def _script(statements: list[str]) -> str:
    return "\n\n".join(s if s.endswith(";") else s + ";" for s in statements) + "\n"


def _next_number(ids: Iterable[str]) -> int:
    numbers = [int(m.group(1)) for i in ids if (m := re.match(r"(\d+)", i))]
    return max(numbers, default=0) + 1


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or "change"


def _touches_bookkeeping(statement: str) -> bool:
    return any(table in statement for table in catalog.IGNORED_TABLES)


def describe_drift(result: Plan) -> str:
    """The differences of *result* and the statements that would fix them, for people."""
    lines = [f"migrations/ do not build sql/ ({len(result.differences)} difference(s)):"]
    lines += [f"  {line}" for line in result.differences]
    if result.forward:
        lines.append("missing statements (write them with `codex-db gen --name <change>`):")
        lines += [f"  {s}" for s in result.forward]
    elif _only_column_order(result.differences):
        lines.append(
            "only column order differs: declare new columns last in sql/ (migrations append)"
        )
    return "\n".join(lines)


def _only_column_order(differences: list[str]) -> bool:
    return bool(differences) and all(
        line.startswith("column ") and " differs" in line for line in differences
    )


def _verify_message(what: str, problems: list[str]) -> str:
    listed = "\n  ".join(problems)
    return (
        f"the generated migration was removed because {what}; write it by hand"
        f" (the differ cannot express this change):\n  {listed}"
    )
