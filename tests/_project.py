"""A temporary copy of this project, for tests that run the real ``codex-db`` commands on it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from codex_db.cli import main
from codex_db.project import Project
from codex_db.workflow import catalog

SOURCE = Project.packaged()
#: The migration ids of this project, in order; the next one a test writes is numbered after.
ALL = [p.name.removesuffix(".sql") for p in SOURCE.migration_files()]
LAST = ALL[-1]


def next_id(offset: int = 1) -> str:
    """The number of the *offset*-th migration a test adds (``0007`` for the first)."""
    return f"{len(ALL) + offset:04d}"


def copy_project(root: Path, *, codegen: bool = False) -> Path:
    """Copy sql/, migrations/, queries/, seed/ and .squawk.toml to *root* (and sqlc with *codegen*).

    The lint baseline moves to the last migration, so ``lint`` and ``check`` judge
    only what the test adds.
    """
    root.mkdir(parents=True)
    for name in ("sql", "migrations", "queries", "seed"):
        shutil.copytree(SOURCE.root / name, root / name)
    config = SOURCE.squawk_config.read_text()
    config = re.sub(r'lint_baseline = ".*"', f'lint_baseline = "{LAST}"', config)
    (root / ".squawk.toml").write_text(config)
    if codegen:
        # No .venv here: codex-db runs sqlc with the plugin of its own environment.
        shutil.copy(SOURCE.sqlc_config, root / "sqlc.yaml")
        shutil.copytree(SOURCE.root / "codex_db" / "generated", root / "codex_db" / "generated")
    return root


def run(project: Path, *argv: str) -> int:
    """``codex-db --project PROJECT ARGV...`` in-process; the exit code."""
    return main(["--project", str(project), *argv])


def spawn(project: Path, *argv: str) -> subprocess.Popen[str]:
    """The same command in a process of its own (to kill it, or run several at once)."""
    command = [sys.executable, "-m", "codex_db", "--project", str(project), *argv]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def snapshot(url: str) -> catalog.Snapshot:
    """The catalog snapshot of the database at *url*."""
    with psycopg.connect(url) as conn:
        return catalog.snapshot(conn)
