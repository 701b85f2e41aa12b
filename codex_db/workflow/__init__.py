"""The schema-change workflow: ``sql/`` is the truth, migrations follow it.

`plan()` compares what ``migrations/`` build with what ``sql/`` declares;
`generate()` (`codex_db.workflow.generate`) writes the next migrations and
proves them first; `drift()` is the CI gate; `target_drift()` compares a live
database with what its applied migrations should have built; `push()` brings
a development database to ``sql/`` without a migration; `baseline()` marks an
existing database as migrated once its schema is checked. Every function
takes the `Project` (its folders) and a *server_url* where scratch databases
are created.
"""

from __future__ import annotations

import msgspec
import psycopg
from yoyo import read_migrations

from codex_db import migrate
from codex_db._dsn import direct_url, display
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import catalog, hazards
from codex_db.workflow.changes import (
    Backfill,
    ChangeError,
    ColumnRename,
    Intent,
    TableRename,
    parse_backfill,
    parse_column_rename,
    parse_table_rename,
)
from codex_db.workflow.compose import NeedsDecisionError, Review
from codex_db.workflow.errors import DriftError, VerificationError
from codex_db.workflow.generate import Generated, Migration, Rewrite, generate
from codex_db.workflow.hazards import Hazard
from codex_db.workflow.schemadiff import (
    build_from_migrations,
    build_from_sql,
    diff,
    scratch_database,
    snapshot,
)

__all__ = [
    "Backfill",
    "ChangeError",
    "ColumnRename",
    "DriftError",
    "Generated",
    "Intent",
    "Migration",
    "NeedsDecisionError",
    "Plan",
    "Review",
    "Rewrite",
    "TableRename",
    "VerificationError",
    "baseline",
    "describe_drift",
    "drift",
    "generate",
    "migration_ids",
    "parse_backfill",
    "parse_column_rename",
    "parse_table_rename",
    "plan",
    "push",
    "push_plan",
    "regenerate_code",
    "sql_drift",
    "target_drift",
]

_LABELS = ("sql/", "migrations/")


class Plan(msgspec.Struct, frozen=True):
    """The difference between ``migrations/`` and ``sql/``.

    *forward* turns the migrated schema into ``sql/``, *backward* undoes it;
    *differences* are the catalog lines (empty: no drift); *notes* what differs
    only for information (column order).
    """

    forward: list[str]
    backward: list[str]
    differences: list[str]
    hazards: list[Hazard]
    before: catalog.Snapshot
    after: catalog.Snapshot
    notes: list[str] = []

    @property
    def in_sync(self) -> bool:
        """True when the migrations build exactly ``sql/``."""
        return not self.differences and not self.forward


def plan(server_url: str, project: Project) -> Plan:
    """Build ``migrations/`` and ``sql/`` in two scratch databases and compare them."""
    with scratch_database(server_url) as current, scratch_database(server_url) as target:
        build_from_migrations(current, project.migrations)
        build_from_sql(target, project.sql)
        forward, backward = diff(current, target), diff(target, current)
        before, after = snapshot(current), snapshot(target)
    differences = catalog.compare(after, before, labels=_LABELS)
    found = hazards.find(forward, before.get("table", {}).keys())
    notes = catalog.notes(after, before)
    return Plan(forward, backward, differences, found, before, after, notes)


def sql_drift(server_url: str, project: Project) -> list[str]:
    """How what ``migrations/`` build differs from ``sql/``, by catalog only (empty: they agree).

    The same verdict as `plan()` without the schema differ, so it works in an
    install without the tools extra (``codex-db migrate`` in production).
    """
    with scratch_database(server_url) as current, scratch_database(server_url) as target:
        build_from_migrations(current, project.migrations)
        build_from_sql(target, project.sql)
        return catalog.compare(snapshot(target), snapshot(current), labels=_LABELS)


def drift(server_url: str, project: Project) -> Plan:
    """`plan()`, raising `DriftError` with the missing statements when out of sync."""
    result = plan(server_url, project)
    if result.in_sync:
        return result
    raise DriftError(describe_drift(result))


def target_drift(
    url: str, server_url: str, project: Project, *, ignore_indexes: frozenset[str] = frozenset()
) -> list[str]:
    """How the database at *url* differs from what its applied migrations should have built.

    The applied migrations (those ``_yoyo_migration`` records, whoever applied
    them: ``codex-db migrate`` or plain ``yoyo apply``) are replayed on a
    scratch database of *server_url* and the two catalogs compared. An empty
    list: the database is what its history says. Use it before applying new
    migrations, and to catch an applied migration whose file changed when no
    checksum was recorded. *ignore_indexes* are left out (those an interrupted
    migration builds: present, missing or INVALID depending on when it stopped).
    """
    applied = {s.id for s in migrate.status(url, source=project.migrations) if s.applied_at}
    with scratch_database(server_url) as expected:
        migrate.apply(expected, source=project.migrations, only=applied)
        _drop_bookkeeping(expected)
        wanted = snapshot(expected)
    found = catalog.compare(wanted, snapshot(direct_url(url)), labels=("migrations", "database"))
    return [line for line in found if not _about_index(line, ignore_indexes)]


def _about_index(line: str, names: frozenset[str]) -> bool:
    head = line.split(":", 1)[0]
    return head.startswith("index ") and head.removeprefix("index ").split(".")[-1] in names


def regenerate_code(project: Project) -> list[str] | None:
    """Run ``sqlc generate`` with the project's ``sqlc.yaml``; ``None`` when it has none.

    Returns the plugin's warnings (types it fell back to Any for), which sqlc hides.
    Raises `CodexDBError` with sqlc's message when a query does not compile.
    """
    config = project.sqlc_config
    if not config.is_file():
        return None
    from codex_db.codegen.check import regenerate

    try:
        return regenerate(config).warnings
    except CodexDBError as exc:
        raise CodexDBError(f"{exc} (fix the query, then rerun codex-db gen)") from exc


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


def describe_drift(result: Plan) -> str:
    """The differences of *result* and the statements that would fix them, for people."""
    lines = [f"migrations/ do not build sql/ ({len(result.differences)} difference(s)):"]
    lines += [f"  {line}" for line in result.differences]
    if result.forward:
        lines.append("missing statements (write them with `codex-db gen --name <change>`):")
        lines += [f"  {s}" for s in result.forward]
    return "\n".join(lines)


def migration_ids(project: Project) -> list[str]:
    """The ids of the project's migrations, in file order."""
    return [str(m.id) for m in read_migrations(str(project.migrations))]


def _drop_bookkeeping(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = ", ".join(f'"{t}"' for t in catalog.IGNORED_TABLES)
        conn.execute(f"DROP TABLE IF EXISTS {tables}".encode())


def _touches_bookkeeping(statement: str) -> bool:
    return any(table in statement for table in catalog.IGNORED_TABLES)
