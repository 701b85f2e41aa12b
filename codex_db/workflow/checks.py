"""The CI gate behind ``codex-db check``: schema, migrations and generated code in step.

`run()` runs them all and reports each as ok, failed or skipped:

- ``history``: no two migrations share a number or a parent (two branches merged);
- ``codegen``: the generated Python is what sqlc generates now (needs ``sqlc.yaml``);
- ``drift``: ``migrations/`` build exactly the schema of ``sql/``;
- ``applied``: no migration applied to the target database was edited, deleted or renamed;
- ``vet``: ``sqlc vet`` (rule ``sqlc/db-prepare``) prepares every query on a migrated database;
- ``lint``: squawk finds nothing in the migrations after the lint baseline.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import msgspec

from codex_db import migrate, workflow
from codex_db._dsn import display, redact, to_url
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import history, lint
from codex_db.workflow.schemadiff import scratch_database

__all__ = [
    "CHECKS",
    "Outcome",
    "applied",
    "codegen",
    "codegen_warnings",
    "drift",
    "history_outcome",
    "lint_outcome",
    "run",
    "vet",
    "vet_on",
]

Status = Literal["ok", "failed", "skipped"]


class Outcome(msgspec.Struct, frozen=True):
    """The result of one check: its name, status and what to fix."""

    name: str
    status: Status
    detail: str = ""


def history_outcome(project: Project) -> Outcome:
    """Do two migrations share a number or a ``-- depends:`` parent?"""
    found = history.collisions(project)
    if not found:
        return Outcome("history", "ok", "one line of migrations: no shared number or parent")
    return Outcome("history", "failed", "\n".join(c.describe(project.root) for c in found))


def codegen(project: Project, *, strict_warnings: bool = False) -> Outcome:
    """Is the generated code fresh? Skipped when the project has no ``sqlc.yaml``.

    The plugin's warnings are listed in the detail; with *strict_warnings* they fail it.
    """
    config = project.root / "sqlc.yaml"
    if not config.is_file():
        return Outcome("codegen", "skipped", f"no {config.name}: nothing is generated")
    from codex_db.codegen import CodegenError, check

    try:
        result = check(config)
    except CodegenError as exc:
        return Outcome("codegen", "failed", str(exc))
    warned = "".join(f"\nwarning: {w}" for w in result.warnings)
    if result.ok and not (strict_warnings and result.warnings):
        return Outcome("codegen", "ok", "generated code is up to date" + warned)
    if result.ok:
        return Outcome("codegen", "failed", f"--strict-warnings: the plugin warned{warned}")
    return Outcome("codegen", "failed", result.report() + warned)


def codegen_warnings(project: Project) -> list[str]:
    """The plugin's warnings on the project's queries (none without ``sqlc.yaml``).

    Raises:
        CodegenError: sqlc or the plugin failed.
    """
    config = project.root / "sqlc.yaml"
    if not config.is_file():
        return []
    from codex_db.codegen import check

    return check(config).warnings


def drift(server_url: str, project: Project) -> Outcome:
    """Do the migrations build exactly ``sql/``?"""
    try:
        workflow.drift(server_url, project)
    except workflow.DriftError as exc:
        return Outcome("drift", "failed", str(exc))
    return Outcome("drift", "ok", "migrations/ build exactly sql/")


def applied(url: str, server_url: str, project: Project) -> Outcome:
    """Were migrations applied to *url* edited, deleted or renamed since, or the schema changed?

    yoyo identifies a migration by its name only: `codex_db.migrate.apply` also
    records a checksum of each file, and every applied migration's file is
    compared with it. A migration applied by plain ``yoyo apply`` has none, so
    the schema is checked too: the applied migrations are replayed on a
    scratch database and the catalogs compared (`codex_db.workflow.target_drift`).
    """
    statuses = migrate.status(url, source=project.migrations)
    edited = [s.id for s in statuses if s.edited]
    unknown = migrate.unknown_applied(url, source=project.migrations)
    unsummed = [s.id for s in statuses if s.applied_at and not s.checksummed]
    lines = [
        f"{project.migrations / (i + '.sql')}: edited after it was applied to {display(url)};"
        " restore the applied version (git) and put the change in a new migration"
        " (`codex-db gen`)"
        for i in edited
    ]
    lines += [
        f"{i}: applied to {display(url)} but has no file in {project.migrations}:"
        " restore it (a migration is never deleted or renamed once applied)"
        for i in unknown
    ]
    if not unknown:
        from codex_db import workflow

        drift = workflow.target_drift(url, server_url, project)
        if drift:
            lines.append(
                f"{display(url)} is not what its applied migrations build (an applied migration"
                " edited since, or a change made by hand):\n  " + "\n  ".join(drift)
            )
    if lines:
        return Outcome("applied", "failed", "\n".join(lines))
    count = sum(1 for s in statuses if s.applied_at)
    how = (
        f"; {len(unsummed)} applied without a checksum (plain yoyo?): checked by their schema"
        if unsummed
        else ""
    )
    return Outcome(
        "applied",
        "ok",
        f"{count} applied migration(s) unchanged on {display(url)}, schema as they build it{how}",
    )


def vet(server_url: str, project: Project) -> Outcome:
    """``sqlc vet`` with ``sqlc/db-prepare`` against a scratch database built by the migrations."""
    if not sorted(project.queries.glob("*.sql")):
        return Outcome("vet", "skipped", f"no queries in {project.queries}: nothing to vet")
    with scratch_database(server_url) as url:
        migrate.apply(url, source=project.migrations)
        return vet_on(url, project)


def vet_on(url: str, project: Project) -> Outcome:
    """``sqlc vet`` (``sqlc/db-prepare``) of the project's queries against the database at *url*."""
    if not sorted(project.queries.glob("*.sql")):
        return Outcome("vet", "skipped", f"no queries in {project.queries}: nothing to vet")
    from codex_db.codegen.check import sqlc_binary

    done = _sqlc_vet(sqlc_binary(), url, project)
    if done.returncode == 0:
        return Outcome("vet", "ok", "every query prepares on the migrated schema")
    return Outcome("vet", "failed", redact((done.stdout + done.stderr).strip()))


def lint_outcome(project: Project) -> Outcome:
    """squawk on the migrations after the lint baseline."""
    report = lint.lint(project)
    if not report.files:
        return Outcome("lint", "ok", "no migration after the lint baseline")
    if report.ok:
        return Outcome("lint", "ok", f"{len(report.files)} migration(s) linted")
    return Outcome("lint", "failed", "\n".join(w.describe(project.root) for w in report.warnings))


def run(
    url: str, server_url: str, project: Project, *, skip: frozenset[str] = frozenset()
) -> list[Outcome]:
    """Run every check not in *skip*; one failing check does not stop the others.

    *url* is the database whose applied migrations are checked; scratch
    databases are created on *server_url*.
    """
    runners: dict[str, Callable[[], Outcome]] = {
        "history": lambda: history_outcome(project),
        "codegen": lambda: codegen(project),
        "drift": lambda: drift(server_url, project),
        "applied": lambda: applied(url, server_url, project),
        "vet": lambda: vet(server_url, project),
        "lint": lambda: lint_outcome(project),
    }
    return [_guarded(name, runner) for name, runner in runners.items() if name not in skip]


CHECKS = ("history", "codegen", "drift", "applied", "vet", "lint")


def _guarded(name: str, runner: Callable[[], Outcome]) -> Outcome:
    try:
        return runner()
    except CodexDBError as exc:
        return Outcome(name, "failed", redact(str(exc)))


def _sqlc_vet(binary: str, url: str, project: Project) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="codex-db-vet-") as folder:
        config = Path(folder) / "sqlc.yaml"
        config.write_text(
            'version: "2"\nsql:\n  - engine: postgresql\n'
            f"    schema: {_relative(project.sql, folder)!r}\n"
            f"    queries: {_relative(project.queries, folder)!r}\n"
            f"    database:\n      uri: {to_url(url)!r}\n"
            "    rules: [sqlc/db-prepare]\n"
        )
        return subprocess.run(  # noqa: S603 - our own sqlc binary, no shell
            [binary, "vet", "-f", str(config)],
            capture_output=True,
            text=True,
            cwd=folder,
            check=False,
        )


def _relative(path: Path, start: str) -> str:
    # sqlc joins even absolute paths to the config's folder.
    return os.path.relpath(path.resolve(), start)
