"""``/schema``: per table, its row-level security policies, registered triggers and indexes.

Policies and the row-level security switches come from ``pg_policies`` and
``pg_class``; triggers from the registry (`codex_db.triggers`), each marked
installed, disabled or missing as ``pg_trigger`` has it; indexes as
``pg_get_indexdef`` prints them. Use it to review what guards each table
before reading its rows.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg

from codex_db.studio._catalog import Table, load_catalog
from codex_db.studio._context import Context
from codex_db.studio._http import Request, Response
from codex_db.studio._render import Html, e, grid, link, table_href, value_cell
from codex_db.studio._structure import index_grid
from codex_db.triggers import DATABASE_TRIGGERS, InstalledTrigger, installed_triggers

__all__ = ["Policy", "schema_page"]

_POLICIES = """
SELECT schemaname::text, tablename::text, policyname::text, permissive, roles::text[], cmd,
       qual, with_check
FROM pg_policies ORDER BY schemaname, tablename, policyname
"""
_SECURITY = """
SELECT n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')
"""


class Policy(msgspec.Struct, frozen=True):
    """A row-level security policy, as ``pg_policies`` shows it."""

    name: str
    permissive: str
    roles: list[str]
    command: str
    using: str | None
    check: str | None


def schema_page(ctx: Context, request: Request) -> Response:
    """``/schema``: a section per table with its policies, triggers and indexes."""
    with ctx.connect() as conn:
        tables = [t for t in load_catalog(conn).tables.values() if t.kind == "table"]
        policies = _policies(conn)
        security = {
            (str(schema), str(name)): (bool(on), bool(forced))
            for schema, name, on, forced in conn.execute(_SECURITY).fetchall()
        }
        installed = installed_triggers(conn)
    index = " · ".join(link(f"#{_anchor(t)}", t.key) for t in tables)
    sections = [
        _section(
            t, policies.get((t.schema, t.name), []), security.get((t.schema, t.name)), installed
        )
        for t in tables
    ]
    return ctx.page("Schema", Html(f"<p>{index}</p>" + "".join(sections)))


def _policies(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], list[Policy]]:
    found: dict[tuple[str, str], list[Policy]] = {}
    for schema, table, *fields in conn.execute(_POLICIES).fetchall():
        found.setdefault((schema, table), []).append(Policy(*fields))
    return found


def _section(
    table: Table,
    policies: list[Policy],
    security: tuple[bool, bool] | None,
    installed: dict[str, InstalledTrigger],
) -> str:
    on, forced = security or (False, False)
    rls = ("on, forced for the owner too" if forced else "on") if on else "off"
    heading = f'<h2 id="{e(_anchor(table))}">{link(table_href(table.key), table.key)}</h2>'
    parts = (
        ("Policies", _policy_grid(policies)),
        ("Triggers (registry)", _trigger_grid(table, installed)),
        ("Indexes", index_grid(table) if table.indexes else None),
    )
    body = "".join(
        f'<p class="muted"><b>{e(title)}</b>: none.</p>'
        if part is None
        else f"<h3>{e(title)}</h3>{part}"
        for title, part in parts
    )
    return (
        f'<section class="schema">{heading}<p>row-level security: <b>{e(rls)}</b></p>'
        f"{body}</section>"
    )


def _policy_grid(policies: list[Policy]) -> Html | None:
    if not policies:
        return None
    rows = [
        [
            value_cell(p.name),
            value_cell(p.command),
            value_cell(p.permissive.lower()),
            value_cell(", ".join(p.roles)),
            value_cell(p.using, limit=1000),
            value_cell(p.check, limit=1000),
        ]
        for p in policies
    ]
    return grid(["policy", "command", "kind", "roles", "using", "with check"], rows)


def _trigger_grid(table: Table, installed: dict[str, InstalledTrigger]) -> Html | None:
    registered = table.key == table.name  # the registry names tables of the current schema
    found = sorted(
        (t for t in DATABASE_TRIGGERS.values() if registered and t.table == table.name),
        key=lambda t: t.name,
    )
    if not found:
        return None
    rows = []
    for trigger in found:
        present = installed.get(trigger.name)
        state = "missing" if present is None else ("installed" if present.enabled else "disabled")
        rows.append(
            [
                value_cell(trigger.name),
                value_cell(f"{trigger.timing} {trigger.event}"),
                value_cell(trigger.function),
                value_cell(state),
                value_cell(trigger.description, limit=1000),
            ]
        )
    return grid(["trigger", "when", "function", "in database", "what"], rows)


def _anchor(table: Table) -> str:
    return "t-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in table.key)
