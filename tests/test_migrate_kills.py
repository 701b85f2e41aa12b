"""``kill -9`` of ``codex-db migrate`` at chosen and random moments: nothing is unrepairable.

Every outcome is repaired by one documented command, ``codex-db migrate
--break-lock --yes`` (the kill leaves yoyo's lock row behind): a transactional
migration is applied and recorded in one transaction, so it is either both or
neither; an interrupted ``CONCURRENTLY`` build is detected (``status``) and
rebuilt. After the repair every migration is applied exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db import cli, migrate
from tests._project import ALL, LAST, next_id, run, spawn

pytestmark = [pytest.mark.usefixtures("clean_env"), pytest.mark.slow]

ROWS = 200_000


def _write(project: Path, name: str, text: str, rollback: str = "") -> str:
    (project / "migrations" / f"{name}.sql").write_text(text)
    (project / "migrations" / f"{name}.rollback.sql").write_text(rollback)
    return name


@pytest.fixture
def chain(project: Path) -> list[str]:
    """Three migrations after the project's: slow transactional ones around an index build.

    Each transactional one bumps a counter, so applying one twice would show. sql/
    declares the same schema, as in a real project (migrate checks that first).
    """
    (project / "sql" / "zz_ledger.sql").write_text(
        "CREATE TABLE ledger (id integer PRIMARY KEY, note text NOT NULL);\n"
        "CREATE TABLE bumps (name text PRIMARY KEY, n integer NOT NULL);\n"
        "CREATE INDEX idx_ledger_note ON ledger (note);\n"
    )
    first = _write(
        project,
        f"{next_id()}.ledger",
        f"-- depends: {LAST}\n"
        "CREATE TABLE ledger (id integer PRIMARY KEY, note text NOT NULL);\n"
        f"INSERT INTO ledger SELECT g, 'row ' || g FROM generate_series(1, {ROWS}) g;\n"
        "CREATE TABLE bumps (name text PRIMARY KEY, n integer NOT NULL);\n"
        "INSERT INTO bumps VALUES ('ledger', 1);\n"
        "SELECT pg_sleep(0.4);\n",
        "DROP TABLE bumps;\nDROP TABLE ledger;\n",
    )
    index = _write(
        project,
        f"{next_id(2)}.ledger_indexes",
        f"-- transactional: false\n-- depends: {first}\n"
        "SET lock_timeout = '5s';\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_ledger_note ON public.ledger (note);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.idx_ledger_note;\nSET lock_timeout = '5s';\n",
    )
    last = _write(
        project,
        f"{next_id(3)}.bump",
        f"-- depends: {index}\nSELECT pg_sleep(0.4);\nINSERT INTO bumps VALUES ('bump', 1);\n",
        "DELETE FROM bumps WHERE name = 'bump';\n",
    )
    return [first, index, last]


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)


def _sessions_gone(url: str, pid: int) -> None:
    """Wait until the killed process's server sessions ended (their statements finished)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (f"codex-db-migrate:{pid}",),
            ).fetchone()
            if row == (0,):
                return
            time.sleep(0.05)
    pytest.fail(f"the sessions of pid {pid} never ended")


def _repaired(
    project: Path, url: str, chain: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The one documented command repairs it; then every migration is applied exactly once."""
    assert run(project, "migrate", "--url", url, "--break-lock", "--yes") == 0, capsys.readouterr()
    assert run(project, "status", "--url", url) == 0, capsys.readouterr()
    capsys.readouterr()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT name, n FROM bumps ORDER BY name").fetchall() == [
            ("bump", 1),
            ("ledger", 1),
        ]
        applied = conn.execute(  # applies minus rollbacks: each migration applied once now
            "SELECT migration_id, sum(CASE operation WHEN 'apply' THEN 1"
            " WHEN 'rollback' THEN -1 ELSE 0 END) FROM _yoyo_log GROUP BY 1 ORDER BY 1"
        ).fetchall()
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_ledger_note'::regclass"
        ).fetchone()
    assert applied == [(mid, 1) for mid in sorted([*ALL, *chain])]
    assert valid == (True,)
    assert migrate.invalid_indexes(url) == []


def _wait_for(url: str, pid: int, fragment: str) -> None:
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s"
                " AND state = 'active'",
                (f"codex-db-migrate:{pid}", f"%{fragment}%"),
            ).fetchone()
            if row:
                return
            time.sleep(0.02)
    pytest.fail(f"pid {pid} never ran {fragment!r}")


def test_killed_inside_a_transactional_migration_leaves_neither_change_nor_record(
    migrated_database: Callable[[], str],
    project: Path,
    chain: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Killed after the DDL ran but before commit: not applied, not recorded; migrate applies it."""
    url = migrated_database()
    proc = spawn(project, "migrate", "--url", url, "--skip-drift-check")
    _wait_for(url, proc.pid, "pg_sleep(0.4)")
    _kill(proc)
    _sessions_gone(url, proc.pid)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('ledger')").fetchone() == (None,)
        assert conn.execute(
            "SELECT count(*) FROM _yoyo_migration WHERE migration_id = %s", (chain[0],)
        ).fetchone() == (0,)
    assert run(project, "status", "--url", url) == cli.PENDING
    assert "stale" in capsys.readouterr().out
    _repaired(project, url, chain, capsys)


def test_killed_during_a_concurrent_index_build_is_detected_and_rebuilt(
    migrated_database: Callable[[], str],
    project: Path,
    chain: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A CONCURRENTLY build killed mid-way leaves an INVALID index: status says what to run,
    and migrate drops and rebuilds it."""
    url = migrated_database()
    assert run(project, "migrate", "--url", url, "--skip-drift-check") == 0
    assert run(project, "rollback", "--url", url, "--last", "2", "--yes") == 0
    capsys.readouterr()
    # An old snapshot makes CREATE INDEX CONCURRENTLY wait; then its session is killed too.
    with psycopg.connect(url) as blocker:
        blocker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        blocker.execute("SELECT count(*) FROM ledger")
        proc = spawn(project, "migrate", "--url", url, "--skip-drift-check")
        _wait_for(url, proc.pid, "CREATE INDEX CONCURRENTLY")
        _kill(proc)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (f"codex-db-migrate:{proc.pid}",),
            )
        blocker.rollback()
    _sessions_gone(url, proc.pid)
    assert migrate.invalid_indexes(url)[0].name == "idx_ledger_note"
    assert run(project, "status", "--url", url) == 1
    err = capsys.readouterr().err
    assert f"interrupted: {chain[1]}" in err and "run `codex-db migrate`" in err
    assert "invalid index: public.idx_ledger_note" in err
    _repaired(project, url, chain, capsys)


@pytest.mark.parametrize("seed", range(8))
def test_killed_at_a_random_moment(
    seed: int,
    migrated_database: Callable[[], str],
    project: Path,
    chain: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """kill -9 at a random moment of a whole migrate: one command repairs every outcome."""
    url = migrated_database()
    # Random moments spread over the whole run (start, each migration, the index build).
    low = 0.4 + 0.15 * seed
    delay = random.Random(seed).uniform(low, low + 0.15)  # noqa: S311 - a schedule, not a secret
    proc = spawn(project, "migrate", "--url", url, "--skip-drift-check")
    time.sleep(delay)
    if proc.poll() is None:
        _kill(proc)
    else:
        proc.communicate()
    _sessions_gone(url, proc.pid)
    left = migrate.pending(url, source=project / "migrations")
    with capsys.disabled():
        print(f"\n  killed after {delay:.2f} s, pending then: {left or 'nothing'}")
    _repaired(project, url, chain, capsys)
