"""Editing the migration history: new, drop, two git branches merged and renumbered, plain yoyo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_db import migrate
from codex_db._dsn import yoyo_url
from tests._project import LAST, next_id, run

pytestmark = pytest.mark.usefixtures("clean_env")


def test_new_writes_an_empty_numbered_pair(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """codex-db new: the next number, -- depends: on the head, an empty rollback beside it."""
    assert run(project, "new", "--name", "Backfill slugs") == 0
    path = project / "migrations" / f"{next_id()}.backfill_slugs.sql"
    assert f"wrote migrations/{path.name}" in capsys.readouterr().out
    text = path.read_text()
    assert f"-- depends: {LAST}" in text and "transactional" not in text
    assert (project / "migrations" / f"{next_id()}.backfill_slugs.rollback.sql").is_file()
    assert run(project, "new", "--name", "index", "--non-transactional") == 0
    second = (project / "migrations" / f"{next_id(2)}.index.sql").read_text()
    assert "-- transactional: false" in second
    assert f"-- depends: {next_id()}.backfill_slugs" in second


def test_drop_deletes_the_latest_unless_applied(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """codex-db drop: the latest goes; an applied one, or one others depend on, stays."""
    url = fresh_database()
    run(project, "new", "--name", "first")
    run(project, "new", "--name", "second")
    first, second = f"{next_id()}.first", f"{next_id(2)}.second"
    assert run(project, "drop", first, "--url", url) == 1
    assert f"{second} depend(s) on it" in capsys.readouterr().err
    assert run(project, "drop", "--url", url) == 0
    assert f"deleted migrations/{second}.sql" in capsys.readouterr().out
    assert not (project / "migrations" / f"{second}.sql").exists()
    assert run(project, "migrate", "--url", url, "--skip-drift-check") == 0
    assert run(project, "drop", "--url", url) == 1
    assert f"{first} is applied to the configured database" in capsys.readouterr().err
    assert (project / "migrations" / f"{first}.sql").exists()


def test_version_alias_and_migrations_path(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--version names both versions; generate is gen; migrations-path prints the folder."""
    with pytest.raises(SystemExit) as info:
        run(project, "--version")
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("codex-db 0.1.0 (sqlc 1.31")
    with pytest.raises(SystemExit):
        run(project, "generate", "--help")
    assert "--rename-table" in capsys.readouterr().out
    assert run(project, "migrations-path") == 0
    assert capsys.readouterr().out.strip() == str(project / "migrations")


def _git(repo: Path, *argv: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@x", *argv],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _add(repo: Path, name: str, sql: str, schema: str) -> None:
    (repo / "migrations" / f"{name}.sql").write_text(f"-- depends: {LAST}\n{sql}\n")
    (repo / "migrations" / f"{name}.rollback.sql").write_text("")
    (repo / "sql" / f"zz_{name.split('.')[1]}.sql").write_text(schema + "\n")


@pytest.mark.parametrize(
    ("theirs", "verdict"),
    [
        ("CREATE INDEX idx_content_price ON content (price_cents);", "they commute"),
        ("ALTER TABLE users ADD COLUMN pronouns text;", "they CONFLICT: both touch users"),
    ],
)
def test_two_branches_merged_fail_check_until_renumbered(
    fresh_database: Callable[..., str],
    project: Path,
    capsys: pytest.CaptureFixture[str],
    theirs: str,
    verdict: str,
) -> None:
    """Two branches each add 0007: check fails naming both and the verdict; renumber fixes it."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    _git(project, "checkout", "-qb", "feature")
    mine = "ALTER TABLE users ADD COLUMN nickname text;"
    _add(project, f"{next_id()}.nickname", mine, mine)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "feature")
    _git(project, "checkout", "-q", "main")
    _add(project, f"{next_id()}.other", theirs, theirs)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "main")
    _git(project, "checkout", "-q", "feature")
    _git(project, "merge", "-q", "--no-edit", "main")

    url = fresh_database()
    skip = [a for name in ("codegen", "drift", "applied", "vet", "lint") for a in ("--skip", name)]
    assert run(project, "check", "--url", url, *skip) == 1
    out = capsys.readouterr().out
    assert f"migrations/{next_id()}.nickname.sql and migrations/{next_id()}.other.sql" in out
    assert verdict in out and "codex-db renumber" in out

    assert run(project, "renumber", "--onto", "main") == 0
    assert f"renamed {next_id()}.nickname -> {next_id(2)}.nickname" in capsys.readouterr().out
    moved = (project / "migrations" / f"{next_id(2)}.nickname.sql").read_text()
    assert f"-- depends: {next_id()}.other" in moved
    assert run(project, "check", "--url", url, *skip) == 0
    assert run(project, "migrate", "--url", url) == 0
    applied = [s.id for s in migrate.status(url, source=project / "migrations")]
    assert applied[-2:] == [f"{next_id()}.other", f"{next_id(2)}.nickname"]


def test_a_database_migrated_by_plain_yoyo_is_checked_by_its_schema(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """yoyo apply (no checksums): check passes, saying so; an edited applied file then fails it."""
    url = fresh_database()
    yoyo = Path(sys.executable).with_name("yoyo")
    subprocess.run(
        [str(yoyo), "apply", "--batch", "--database", yoyo_url(url), str(project / "migrations")],
        check=True,
        capture_output=True,
    )
    assert run(project, "check", "--url", url, "--skip", "vet") == 0
    out = capsys.readouterr().out
    assert "applied without a checksum (plain yoyo?): checked by their schema" in out
    applied = project / "migrations" / f"{LAST}.sql"
    applied.write_text(applied.read_text() + "\nCREATE INDEX edited_later ON users (name);\n")
    (project / "sql" / "zz_edited.sql").write_text("CREATE INDEX edited_later ON users (name);\n")
    assert run(project, "check", "--url", url, "--skip", "vet") == 1
    out = capsys.readouterr().out
    assert "is not what its applied migrations build" in out and "edited_later" in out
