"""Statistics over the rounds, and the Markdown table and JSON written for a run."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.workloads import Goal, Workload

__all__ = ["GoalResult", "PeerStats", "WorkloadResult", "render", "write"]


@dataclass
class PeerStats:
    """One peer's measurements (seconds per op, or bytes per row), one per round."""

    name: str
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """Client CPU seconds per op (this process, its threads and pgbench), one per round."""
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def minimum(self) -> float:
        return min(self.samples)

    @property
    def spread(self) -> float:
        """Interquartile range over the median (0 with fewer than 4 rounds: max-min then)."""
        if len(self.samples) < 4:
            return (max(self.samples) - self.minimum) / self.median if self.median else 0.0
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median if self.median else 0.0


@dataclass
class GoalResult:
    """A goal and the median of its per-round ratios."""

    goal: Goal
    ratio: float | None
    cpu_ratio: float | None = None
    """The same ratio on client CPU per op (latency goals only): what the libraries cost,
    without the server's share, which no client can shorten."""

    @property
    def met(self) -> bool | None:
        return None if self.ratio is None else self.goal.met(self.ratio)


@dataclass
class WorkloadResult:
    """Every peer's samples for one workload, with the ratio helpers."""

    workload: Workload
    ops_per_batch: int
    peers: dict[str, PeerStats]

    def ratio(self, subject: str, reference: str, throughput: bool = False) -> float | None:
        """Median over rounds of subject ÷ reference (reference ÷ subject for throughput)."""
        a, b = self.peers.get(subject), self.peers.get(reference)
        if a is None or b is None or a.error or b.error:
            return None
        return _median_ratio(a.samples, b.samples, throughput)

    def cpu_ratio(self, subject: str, reference: str) -> float | None:
        """Median over rounds of subject ÷ reference client CPU per op."""
        a, b = self.peers.get(subject), self.peers.get(reference)
        if a is None or b is None or a.error or b.error:
            return None
        return _median_ratio(a.cpu, b.cpu, throughput=False)

    def goals(self) -> list[GoalResult]:
        return [
            GoalResult(
                g,
                self.ratio(g.subject, g.reference, g.throughput),
                None if g.throughput else self.cpu_ratio(g.subject, g.reference),
            )
            for g in self.workload.goals
        ]


def _median_ratio(xs: list[float], ys: list[float], throughput: bool) -> float | None:
    pairs = zip(xs, ys, strict=False)
    ratios = [(y / x) if throughput else (x / y) for x, y in pairs if x > 0 and y > 0]
    return statistics.median(ratios) if ratios else None


def _fmt_value(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value:,.0f} B"
    us = value * 1e6
    return f"{us:,.1f}" if us < 1000 else f"{us:,.0f}"


def _table(result: WorkloadResult) -> list[str]:
    w = result.workload
    unit = "B/row" if w.unit == "bytes" else "µs/op"
    head = (
        f"| peer | median {unit} | min | spread (IQR) | ops/s | {w.subject} ÷ peer"
        " | client CPU µs/op |"
    )
    if w.unit == "bytes":
        head = f"| peer | median {unit} | min | spread | | {w.subject} ÷ peer | |"
    lines = [head, "|---|--:|--:|--:|--:|--:|--:|"]
    for name, stats in result.peers.items():
        if stats.error:
            lines.append(f"| {name} | failed: {stats.error} | | | | | |")
            continue
        ops = "" if w.unit == "bytes" else f"{1 / stats.median:,.0f}"
        ratio = result.ratio(w.subject, name)
        shown = "—" if name == w.subject or ratio is None else f"{ratio:.2f}"
        cpu = "" if w.unit == "bytes" or not stats.cpu else _fmt_value(stats.cpu_median, "us")
        lines.append(
            f"| {name} | {_fmt_value(stats.median, w.unit)} | {_fmt_value(stats.minimum, w.unit)}"
            f" | {stats.spread:.0%} | {ops} | {shown} | {cpu} |"
        )
    return lines


def _goal_line(g: GoalResult) -> str:
    what = "ops/s ratio" if g.goal.throughput else "ratio"
    note = f" ({g.goal.note})" if g.goal.note else ""
    if g.ratio is None:
        return f"- **n/a**: {g.goal.subject} vs {g.goal.reference}: not measured{note}"
    verdict = "met" if g.met else "NOT met"
    cpu = ""
    if not g.met and g.cpu_ratio is not None:
        within = "within" if g.goal.met(g.cpu_ratio) else "also over"
        cpu = f"; on client CPU {g.cpu_ratio:.2f}, {within} the goal"
    return (
        f"- **{verdict}**: {g.goal.subject} {what} vs {g.goal.reference} = {g.ratio:.2f}"
        f" (goal {g.goal.describe()}){note}{cpu}"
    )


def render(results: list[WorkloadResult], header: list[str]) -> str:
    """The whole report as Markdown."""
    lines = [*header, ""]
    for result in results:
        w = result.workload
        lines += ["", f"### {w.name}: {w.title}", ""]
        if w.note:
            lines += [f"_{w.note}_", ""]
        lines += _table(result)
        goal_lines = [_goal_line(g) for g in result.goals()]
        if goal_lines:
            lines += ["", *goal_lines]
    summary = [g for r in results for g in r.goals()]
    met = sum(1 for g in summary if g.met)
    cpu_only = sum(
        1 for g in summary if not g.met and g.cpu_ratio is not None and g.goal.met(g.cpu_ratio)
    )
    also = f" {cpu_only} more within the goal on client CPU." if cpu_only else ""
    lines += ["", f"**Goals met: {met} of {len(summary)}.**{also}", ""]
    return "\n".join(lines)


def write(
    directory: Path, stem: str, markdown: str, results: list[WorkloadResult], meta: dict[str, Any]
) -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.json`` (every sample) into *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / f"{stem}.md", directory / f"{stem}.json"
    md.write_text(markdown)
    payload = {
        "meta": meta,
        "workloads": [
            {
                "name": r.workload.name,
                "unit": "seconds/op" if r.workload.unit == "us" else "bytes/row",
                "ops_per_batch": r.ops_per_batch,
                "peers": {
                    n: {"samples": s.samples, "cpu": s.cpu, "error": s.error}
                    for n, s in r.peers.items()
                },
                "goals": [
                    {
                        "subject": g.goal.subject,
                        "reference": g.goal.reference,
                        "limit": g.goal.limit,
                        "throughput": g.goal.throughput,
                        "ratio": g.ratio,
                        "cpu_ratio": g.cpu_ratio,
                        "met": g.met,
                    }
                    for g in r.goals()
                ],
            }
            for r in results
        ],
    }
    js.write_text(json.dumps(payload, indent=1))
    return [md, js]
