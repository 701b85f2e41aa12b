"""The schema-change workflow end to end, and migrate under concurrency and kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db import cli, migrate
from tests._project import ALL, LAST, next_id, run, spawn

NEXT = next_id()
NEXT2 = next_id(2)

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def project(codegen_project: Path) -> Path:
    """The project copy with sqlc: gen regenerates the Python too."""
    return codegen_project


@pytest.mark.slow
def test_five_concurrent_migrates_apply_each_migration_once(
    fresh_database: Callable[..., str], project: Path
) -> None:
    """5 processes migrating at once: all exit 0, each migration runs exactly once."""
    (project / "migrations" / f"{NEXT}.counter.sql").write_text(
        f"-- depends: {LAST}\nCREATE TABLE counter (n int NOT NULL);\n"
        "INSERT INTO counter VALUES (0);\n"
    )
    (project / "migrations" / f"{NEXT2}.bump.sql").write_text(
        f"-- depends: {NEXT}.counter\nSELECT pg_sleep(1);\nUPDATE counter SET n = n + 1;\n"
    )
    url = fresh_database()
    # The migrations are not in sql/: skip the drift check, this test is about the lock.
    procs = [spawn(project, "migrate", "--url", url, "--skip-drift-check") for _ in range(5)]
    results = [(p.wait(timeout=60), p.communicate()) for p in procs]
    assert [code for code, _ in results] == [0] * 5, results
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)
        rows = conn.execute(
            "SELECT migration_id, count(*) FROM _yoyo_log WHERE operation = 'apply' GROUP BY 1"
        ).fetchall()
    expected = [*ALL, f"{NEXT}.counter", f"{NEXT2}.bump"]
    assert sorted(rows) == [(mid, 1) for mid in sorted(expected)]


@pytest.mark.slow
def test_killed_migrate_leaves_a_lock_that_status_reports_and_break_lock_clears(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill -9 mid-migration: status shows the stale lock; migrate --break-lock --yes recovers."""
    (project / "migrations" / f"{NEXT}.slow.sql").write_text(
        f"-- depends: {LAST}\nSELECT pg_sleep(2);\n"
    )
    url = fresh_database()
    # Without the drift check the sleep seen is the target's, not a scratch database's.
    proc = spawn(project, "migrate", "--url", url, "--skip-drift-check")
    _wait_for_sleep(url, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    holder = _wait_for_stale_lock(url)
    assert holder.pid == proc.pid

    assert run(project, "status", "--url", url) == cli.PENDING
    out = capsys.readouterr().out
    assert f"pid {proc.pid}" in out and "stale" in out and "codex-db migrate --break-lock" in out
    assert run(project, "migrate", "--url", url, "--break-lock", "--yes") == 0
    out = capsys.readouterr().out
    assert f"broke the lock of pid {proc.pid}" in out and f"applied {NEXT}.slow" in out
    assert migrate.lock_status(url) is None


def _wait_for_sleep(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(2)%%'"
                " AND application_name = %s",
                (f"codex-db-migrate:{proc.pid}",),
            ).fetchone()
            if row:
                return
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
    pytest.fail("the migration never started sleeping")


def _wait_for_stale_lock(url: str) -> migrate.LockHolder:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        holder = migrate.lock_status(url)
        assert holder is not None
        if holder.stale:
            return holder
        time.sleep(0.1)
    pytest.fail("the killed migration's session never went away")


def test_gen_reports_a_query_that_does_not_compile(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken query stops gen with sqlc's message; no migration is written."""
    if not (project / "sqlc.yaml").is_file():
        pytest.skip("the project has no sqlc.yaml yet")
    (project / "queries" / "broken.sql").write_text(
        "-- name: Broken :one\nSELECT nope FROM users;\n"
    )
    assert run(project, "gen", "--url", fresh_database()) == 1
    err = capsys.readouterr().err
    assert "codegen: sqlc diff failed" in err and 'column "nope" does not exist' in err
    assert not [p for p in (project / "migrations").glob("*.sql") if p.stem.split(".")[0] > LAST]


def test_migrate_refuses_a_database_changed_by_hand(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A change made outside the migrations is listed and nothing is applied."""
    url = fresh_database()
    assert run(project, "migrate", "--url", url) == 0
    (project / "migrations" / f"{NEXT}.noop.sql").write_text(f"-- depends: {LAST}\nSELECT 1;\n")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE INDEX by_hand ON users (name)")
    capsys.readouterr()
    assert run(project, "migrate", "--url", url) == 1
    err = capsys.readouterr().err
    assert "is not what its applied migrations build" in err and "public.by_hand" in err
    assert migrate.pending(url, source=project / "migrations") == [f"{NEXT}.noop"]
    assert run(project, "migrate", "--url", url, "--skip-drift-check") == 0
    assert "drift check skipped" in capsys.readouterr().out


def test_migrate_refuses_pending_migrations_that_do_not_build_sql(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What gen --check rejects (migrations/ and sql/ disagree) is not applied."""
    url = fresh_database()
    (project / "migrations" / f"{NEXT}.extra.sql").write_text(
        f"-- depends: {LAST}\nCREATE TABLE extra (id integer PRIMARY KEY);\n"
    )
    assert run(project, "migrate", "--url", url) == 1
    err = capsys.readouterr().err
    assert "the pending migrations would not build sql/" in err and "codex-db gen" in err
    assert migrate.status(url, source=project / "migrations")[0].applied_at is None
