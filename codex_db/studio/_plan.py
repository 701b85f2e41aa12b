"""A query plan as a readable tree: ``EXPLAIN (FORMAT JSON)`` rendered as nested lists.

Each node shows its type (with join type, strategy, scan direction), the
relation or index it reads, the planner's cost, rows and width, and, after
``EXPLAIN ANALYZE``, the actual time, rows and loops and the buffers it
touched; its conditions (filters, index and join conditions, sort keys)
follow in grey. Use `plan_tree()` on what the console's explain modes return.
"""

from __future__ import annotations

from typing import Any

from codex_db.studio._render import Html, e

__all__ = ["plan_tree"]

_DETAILS = (
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Filter",
    "Rows Removed by Filter",
    "Rows Removed by Join Filter",
    "Sort Key",
    "Sort Method",
    "Group Key",
    "Presorted Key",
    "Heap Fetches",
)
_BUFFERS = (
    ("Shared Hit Blocks", "shared hit"),
    ("Shared Read Blocks", "read"),
    ("Shared Dirtied Blocks", "dirtied"),
    ("Shared Written Blocks", "written"),
    ("Local Hit Blocks", "local hit"),
    ("Local Read Blocks", "local read"),
    ("Temp Read Blocks", "temp read"),
    ("Temp Written Blocks", "temp written"),
)


def plan_tree(plan: list[Any]) -> Html:
    """The plan(s) of an ``EXPLAIN (FORMAT JSON)`` result, with planning and execution times."""
    parts = []
    for entry in plan:
        if not isinstance(entry, dict) or not isinstance(entry.get("Plan"), dict):
            continue
        parts.append(f'<ul class="plan top">{_node(entry["Plan"])}</ul>')
        times = [
            f"{label} {entry[key]:.3f} ms"
            for key, label in (("Planning Time", "planning"), ("Execution Time", "execution"))
            if isinstance(entry.get(key), int | float)
        ]
        triggers = entry.get("Triggers") or []
        times += [
            f"trigger {t.get('Trigger Name')}: {t.get('Time', 0):.3f} ms, {t.get('Calls')} calls"
            for t in triggers
            if isinstance(t, dict)
        ]
        if times:
            parts.append(f'<p class="muted">{e(" · ".join(times))}</p>')
    return Html("".join(parts) or '<p class="muted">No plan.</p>')


def _node(node: dict[str, Any]) -> str:
    children = node.get("Plans") or []
    inner = "".join(_node(child) for child in children if isinstance(child, dict))
    below = f'<ul class="plan">{inner}</ul>' if inner else ""
    details = "".join(
        f'<div class="detail">{e(key.lower())}: {e(_text(node[key]))}</div>'
        for key in _DETAILS
        if key in node
    )
    return (
        f'<li><span class="node">{e(_title(node))}</span>{_target(node)}'
        f'<div class="figures">{e(" · ".join(_figures(node)))}</div>{details}{below}</li>'
    )


def _title(node: dict[str, Any]) -> str:
    title = str(node.get("Node Type", "?"))
    extra = [
        str(node[key])
        for key in ("Strategy", "Join Type", "Scan Direction", "Parent Relationship")
        if key in node and node[key] not in ("Plain", "Forward", "Outer")
    ]
    return f"{title} ({', '.join(extra)})" if extra else title


def _target(node: dict[str, Any]) -> str:
    parts = []
    if "Relation Name" in node:
        name = ".".join(str(node[k]) for k in ("Schema", "Relation Name") if k in node)
        alias = node.get("Alias")
        shown = name if not alias or alias == node["Relation Name"] else f"{name} {alias}"
        parts.append(f'on <span class="rel">{e(shown)}</span>')
    if "Index Name" in node:
        parts.append(f'using <span class="rel">{e(node["Index Name"])}</span>')
    for key, word in (("CTE Name", "CTE"), ("Function Name", "function"), ("Subplan Name", "")):
        if key in node:
            parts.append(f"{e(word)} {e(node[key])}".strip())
    return (" " + " ".join(parts)) if parts else ""


def _figures(node: dict[str, Any]) -> list[str]:
    figures = []
    if "Total Cost" in node:
        figures.append(
            f"cost {node.get('Startup Cost', 0):.2f}..{node['Total Cost']:.2f}"
            f" rows {node.get('Plan Rows', '?')} width {node.get('Plan Width', '?')}"
        )
    if node.get("Actual Loops") == 0:
        figures.append("never executed")
    elif "Actual Total Time" in node:
        figures.append(
            f"actual {node.get('Actual Startup Time', 0):.3f}..{node['Actual Total Time']:.3f} ms"
            f" rows {_rows(node.get('Actual Rows'))} loops {node.get('Actual Loops', 1)}"
        )
    elif "Actual Rows" in node:
        figures.append(f"actual rows {_rows(node['Actual Rows'])} loops {node.get('Actual Loops')}")
    buffers = [f"{label} {node[key]}" for key, label in _BUFFERS if node.get(key)]
    if buffers:
        figures.append("buffers " + " ".join(buffers))
    return figures


def _rows(value: object) -> str:
    """Actual rows: PostgreSQL 18 reports averages with two decimals, older ones integers."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
