"""codex-db seed and reset: development data, idempotent, never on production."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests._project import run

pytestmark = pytest.mark.usefixtures("clean_env")


def _everything(url: str) -> dict[str, list[Any]]:
    """Every row of every table (bookkeeping aside), as JSON, in a stable order."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND relkind = 'r' AND relname NOT LIKE '%%yoyo%%'"
                " AND relname NOT LIKE '\\_codex%%' ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(f'SELECT row_to_json(x)::text FROM "{t}" x ORDER BY 1').fetchall()
            for t in tables
        }


def test_seed_twice_leaves_the_same_rows(
    migrated_database: Callable[[], str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's data is a seed; running it again changes nothing."""
    url = migrated_database()
    assert run(project, "seed", "--url", url) == 0
    assert "ran seed/01_demo.sql" in capsys.readouterr().out
    once = _everything(url)
    assert len(once["content"]) == 3 and len(once["users"]) == 2
    assert run(project, "seed", "--url", url) == 0
    assert _everything(url) == once


def test_seed_needs_the_migrations_first(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pending migrations: seed refuses, naming the command to run."""
    assert run(project, "seed", "--url", fresh_database()) == 1
    assert "run `codex-db migrate` first" in capsys.readouterr().err


def test_reset_recreates_migrates_and_seeds(
    migrated_database: Callable[[], str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """reset drops everything (a table made by hand too), migrates and seeds."""
    url = migrated_database()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE scratch_by_hand (id int)")
        conn.execute("INSERT INTO users (id, name, email) VALUES ('x', 'X', 'x@x.test')")
    assert run(project, "reset", "--url", url) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert run(project, "reset", "--url", url, "--yes") == 0
    assert "seed file(s) run: 01_demo.sql" in capsys.readouterr().out
    rows = _everything(url)
    assert "scratch_by_hand" not in rows and len(rows["users"]) == 2
    assert run(project, "status", "--url", url) == 0


@pytest.mark.parametrize("command", ["seed", "reset"])
def test_production_is_refused(
    command: str, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """NODE_ENV=production: both refuse before connecting; reset has no way around it."""
    monkeypatch.setenv("NODE_ENV", "production")
    url = "postgresql://app@127.0.0.1:1/prod"
    assert run(project, command, "--url", url, *(["--yes"] if command == "reset" else [])) == 1
    assert "refuse" in capsys.readouterr().err
    if command == "reset":
        with pytest.raises(SystemExit):
            run(project, "reset", "--url", url, "--force-production")
