"""scripts/demo walks through every scenario, and can run again on the same database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"


def test_demo_runs_twice(migrated_database: Callable[[], str]) -> None:
    """Two runs in a row on one database both exit 0 and finish every scenario."""
    env = {**os.environ, "DATABASE_URL": migrated_database()}
    for name in ("DB_METHOD", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        env.pop(name, None)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "every scenario behaved as documented" in done.stdout
        assert "constraint=users_email_unique" in done.stdout
        assert "after:  status=draft organization=None" in done.stdout
