"""scripts/demo walks through the whole job, and can run again on the same database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scripts" / "demo.py"

pytestmark = pytest.mark.slow


def git_status() -> str:
    """The checkout's ``git status --porcelain`` (untracked files included)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_demo_runs_twice(migrated_database: Callable[[], str]) -> None:
    """Two runs in a row on one database both walk every step, the schema change included."""
    url = migrated_database()
    env = {**os.environ, "DATABASE_URL": url}
    for name in ("DB_METHOD", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        env.pop(name, None)
    before = git_status()
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=300
        )
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        assert "every step behaved as documented" in out
        # The runtime.
        assert "unique violation, constraint users_email_unique" in out
        assert "status=draft organization_id=None published_at=None" in out
        # The schema change: gen wrote the migration and the code, migrate applied it,
        # the new generated function ran on the new column, and check passed.
        assert re.search(r"wrote migrations/\d{4}\.add_summary\.sql", out), out
        assert re.search(r"applied \d{4}\.add_summary", out), out
        assert "SetContentSummaryRow(id=UUID('5eed0000-0000-4000-8000-000000000201')" in out
        assert "summary='Start here: a two-minute tour')" in out
        assert "all checks passed" in out
        # The studio served its table list.
        assert "GET / (after the token's redirect) -> 200" in out
        # The scratch database is gone, and the demo database never got the column.
        scratch = re.search(r"CREATE DATABASE (codex_demo_\w+)", out)
        assert scratch, out
        with psycopg.connect(url) as conn:
            left = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (scratch.group(1),)
            ).fetchall()
            assert left == []
            columns = conn.execute(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_name = 'content' AND column_name = 'summary'"
            ).fetchall()
            assert columns == []
    assert git_status() == before
