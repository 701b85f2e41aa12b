"""The structure section of a table page: columns, constraints, indexes and triggers."""

from __future__ import annotations

from codex_db.studio._catalog import Table
from codex_db.studio._render import Html, grid, value_cell
from codex_db.triggers import DATABASE_TRIGGERS

__all__ = ["index_grid", "structure"]

_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "f": "foreign key",
    "c": "check",
    "x": "exclusion",
    "t": "trigger",
    "n": "not null",
}


def structure(table: Table) -> Html:
    """The schema of *table* as four small grids, inside an open ``<details>``."""
    return Html(
        "<details open><summary><b>Structure</b></summary>"
        f"<h2>Columns</h2>{_columns(table)}"
        f"<h2>Constraints</h2>{_constraints(table)}"
        f"<h2>Indexes</h2>{index_grid(table)}"
        f"<h2>Triggers (registry)</h2>{_triggers(table)}</details>"
    )


def _columns(table: Table) -> Html:
    rows = []
    for column in table.columns:
        marks = []
        if column.name in table.primary_key:
            marks.append("primary key")
        fk = table.link_of(column.name)
        if fk is not None:
            marks.append(f"→ {fk.target}({', '.join(fk.target_columns)})")
        if column.identity:
            marks.append("identity")
        if column.generated:
            marks.append("generated")
        rows.append(
            [
                value_cell(column.name),
                value_cell(column.type),
                value_cell("not null" if column.not_null else "null"),
                value_cell(column.default),
                value_cell(", ".join(marks)),
            ]
        )
    return grid(["name", "type", "nullable", "default", "key"], rows)


def _constraints(table: Table) -> Html:
    if not table.constraints:
        return Html('<p class="muted">None.</p>')
    rows = [
        [
            value_cell(c.name),
            value_cell(_CONSTRAINT_KINDS.get(c.kind, c.kind)),
            value_cell(c.definition, limit=500),
        ]
        for c in table.constraints
    ]
    return grid(["name", "kind", "definition"], rows)


def index_grid(table: Table) -> Html:
    """The indexes of *table* as ``pg_get_indexdef`` prints them (or "None.")."""
    if not table.indexes:
        return Html('<p class="muted">None.</p>')
    rows = [[value_cell(i.name), value_cell(i.definition, limit=500)] for i in table.indexes]
    return grid(["name", "definition"], rows)


def _triggers(table: Table) -> Html:
    found = [t for t in DATABASE_TRIGGERS.values() if t.table == table.name]
    if not found:
        return Html('<p class="muted">None registered.</p>')
    rows = [
        [value_cell(t.name), value_cell(f"{t.timing} {t.event}"), value_cell(t.description)]
        for t in sorted(found, key=lambda t: t.name)
    ]
    return grid(["name", "when", "what"], rows)
