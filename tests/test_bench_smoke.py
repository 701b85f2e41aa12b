"""The benchmark suite keeps working: its smoke mode runs every workload and prints the table.

No timing is asserted: the numbers of a smoke run mean nothing.
"""

from __future__ import annotations

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
    for name in WORKLOADS:
        assert f"### {name}:" in result.stdout
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
