"""The benchmark suite keeps working: its smoke mode runs every workload and prints the table.

No timing is asserted: the numbers of a smoke run mean nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_run_prints_every_workload_table(tmp_path: Path) -> None:
    """``python -m bench --smoke`` exits 0, prints each workload's table and writes the files."""
    for module in ("asyncpg", "uvloop", "sqlalchemy"):
        pytest.importorskip(module, reason="the bench extra is missing: pip install -e '.[bench]'")
    from bench.workloads import WORKLOADS

    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "| peer | median µs/op |" in result.stdout
    for name, workload in WORKLOADS.items():
        # The pooler workloads need CODEX_DB_BENCH_POOLER (test_smoke_pooler_workloads).
        assert (f"### {name}:" in result.stdout) is not workload.needs_pooler
    assert "failed:" not in result.stdout
    assert len(list(tmp_path.glob("*-smoke.md"))) == 1
    assert len(list(tmp_path.glob("*-smoke.json"))) == 1


def test_a_missed_goal_shows_its_client_cpu_ratio() -> None:
    """A goal missed on wall time says whether the client CPU ratio is within it."""
    from bench.report import PeerStats, WorkloadResult, render
    from bench.workloads import WORKLOADS

    workload = WORKLOADS["insert_returning"]
    goal = next(g for g in workload.goals if g.reference == "SQLAlchemy Core")
    peers = {
        goal.subject: PeerStats(goal.subject, samples=[300e-6] * 4, cpu=[50e-6] * 4),
        goal.reference: PeerStats(goal.reference, samples=[400e-6] * 4, cpu=[150e-6] * 4),
    }
    report = render([WorkloadResult(workload, 1, peers)], ["# test"])

    assert f"- **NOT met**: {goal.subject} ratio vs {goal.reference} = 0.75" in report
    assert "; on client CPU 0.33, within the goal" in report
    assert "more within the goal on client CPU." in report


@pytest.mark.pooler
def test_smoke_pooler_workloads(tmp_path: Path) -> None:
    """The pooler workloads run through the pooler the pooler tests use."""
    pooler = os.environ.get("CODEX_DB_TEST_POOLER_URL")
    if not pooler or not os.environ.get("DATABASE_URL"):
        pytest.skip("needs CODEX_DB_TEST_POOLER_URL and DATABASE_URL (the server behind it)")
    from tests.test_pooler import supports_prepared

    if not supports_prepared(pooler):
        # The workloads compare prepared and unprepared on a pooler that maps prepared
        # statements; on 1.18 a prepared transaction collides (and is not re-run).
        pytest.skip("the pooler workloads need PgBouncer 1.21+ with max_prepared_statements")
    names = ["pooler_get_pk", "pooler_tx3", "pooler_concurrent_8"]
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)]
        + [arg for name in names for arg in ("--workload", name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "CODEX_DB_BENCH_POOLER": pooler},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(f"### {name}:" in result.stdout for name in names)
