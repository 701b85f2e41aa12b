"""The registry of the database's triggers, and its comparison with ``pg_trigger``.

Business rules live in triggers (``sql/triggers.sql``) so they hold whatever
client writes. This module says what each one does and why, for code and
people reading it, and `trigger_drift()` proves the registry matches a database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import msgspec
import psycopg

from codex_db.errors import CodexDBError

__all__ = [
    "DATABASE_TRIGGERS",
    "InstalledTrigger",
    "TriggerMetadata",
    "UnknownTriggerError",
    "get_all_trigger_names",
    "get_trigger_metadata",
    "get_triggers_for_table",
    "installed_triggers",
    "trigger_drift",
]

Timing = Literal["BEFORE", "AFTER", "INSTEAD OF"]
Event = Literal["INSERT", "UPDATE", "DELETE", "TRUNCATE"]


class UnknownTriggerError(CodexDBError, KeyError):
    """The name is not a registered trigger (or names several): the message lists the known ones."""

    __module__ = "codex_db"

    def __str__(self) -> str:
        return str(self.args[0])


class TriggerMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """One trigger: what the database runs, when, and why."""

    name: str
    table: str
    function: str
    timing: Timing
    events: tuple[Event, ...]
    columns: tuple[str, ...] = ()
    """``UPDATE OF`` columns; empty when any update fires it."""
    condition: str | None = None
    """The ``WHEN`` condition, as written in ``sql/triggers.sql``."""
    description: str
    business_reason: str
    migration: str
    for_each: Literal["ROW", "STATEMENT"] = "ROW"

    @property
    def event(self) -> str:
        """The event clause as SQL writes it, e.g. ``UPDATE OF deleted_at``."""
        columns = f" OF {', '.join(self.columns)}" if self.columns else ""
        return " OR ".join(self.events) + columns


class InstalledTrigger(msgspec.Struct, frozen=True):
    """A trigger as ``pg_trigger`` describes it; see `installed_triggers()`."""

    name: str
    table: str
    function: str
    timing: str
    events: tuple[str, ...]
    columns: tuple[str, ...]
    condition: str | None
    for_each: str
    enabled: bool


_UPDATED_AT_TABLES = (
    "users",
    "accounts",
    "sessions",
    "verification_tokens",
    "organizations",
    "media_items",
    "content",
)


def _updated_at(table: str) -> TriggerMetadata:
    return TriggerMetadata(
        name=f"trigger_set_{table}_updated_at",
        table=table,
        function="set_updated_at",
        timing="BEFORE",
        events=("UPDATE",),
        description=f"Sets {table}.updated_at to clock_timestamp() on every update.",
        business_reason=(
            "updated_at is maintained by the database, so no caller can forget it or"
            " set it wrong; clock_timestamp() moves it past created_at even within"
            " the inserting transaction."
        ),
        migration="0003.triggers",
    )


_REGISTRY: tuple[TriggerMetadata, ...] = (
    *(_updated_at(table) for table in _UPDATED_AT_TABLES),
    TriggerMetadata(
        name="trigger_unpublish_on_org_delete",
        table="content",
        function="unpublish_content_on_org_delete",
        timing="BEFORE",
        events=("UPDATE",),
        condition="old.organization_id IS NOT NULL AND new.organization_id IS NULL",
        description=(
            "When content loses its organization (organization_id goes from NOT NULL"
            " to NULL, as the foreign key's ON DELETE SET NULL does), sets"
            " status = 'draft' and published_at = NULL."
        ),
        business_reason=(
            "Published organization content must not appear on the creator's"
            " personal page by surprise when the organization is deleted."
        ),
        migration="0003.triggers",
    ),
    TriggerMetadata(
        name="trigger_unpublish_on_org_soft_delete",
        table="organizations",
        function="unpublish_content_on_org_soft_delete",
        timing="AFTER",
        events=("UPDATE",),
        columns=("deleted_at",),
        condition="old.deleted_at IS NULL AND new.deleted_at IS NOT NULL",
        description=(
            "When an organization is soft-deleted (deleted_at set), moves its"
            " published content back to draft and clears published_at."
        ),
        business_reason=(
            "A soft delete keeps the foreign key, so the hard-delete trigger does not"
            " fire; the organization's content must still stop being public."
        ),
        migration="0003.triggers",
    ),
    TriggerMetadata(
        name="trigger_end_sessions_on_user_soft_delete",
        table="users",
        function="end_sessions_on_user_soft_delete",
        timing="AFTER",
        events=("UPDATE",),
        columns=("deleted_at",),
        condition="old.deleted_at IS NULL AND new.deleted_at IS NOT NULL",
        description="When a user is soft-deleted (deleted_at set), deletes their sessions.",
        business_reason=(
            "better-auth knows nothing of deleted_at and would keep accepting a"
            " soft-deleted user's sessions; they end in the same transaction."
        ),
        migration="0003.triggers",
    ),
)

#: Every trigger of the schema, by trigger name (read-only).
DATABASE_TRIGGERS: Mapping[str, TriggerMetadata] = MappingProxyType(
    {trigger.name: trigger for trigger in _REGISTRY}
)


def get_trigger_metadata(name: str) -> TriggerMetadata:
    """The trigger named *name*, or the only trigger that runs the function *name*.

    ``get_trigger_metadata("unpublish_content_on_org_delete")`` works as in the
    reference README; a function several triggers share (``set_updated_at``)
    needs the trigger name.

    Raises:
        UnknownTriggerError: listing the known trigger names.
    """
    if name in DATABASE_TRIGGERS:
        return DATABASE_TRIGGERS[name]
    matches = [t for t in _REGISTRY if t.function == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(t.name for t in matches)
        raise UnknownTriggerError(
            f"function {name!r} is run by {len(matches)} triggers: use one of {names}"
        )
    raise UnknownTriggerError(
        f"unknown trigger {name!r}: expected one of {', '.join(get_all_trigger_names())}"
    )


def get_triggers_for_table(table: str) -> list[TriggerMetadata]:
    """The triggers on *table*, sorted by name.

    Raises:
        UnknownTriggerError: when no trigger is on *table*, listing the tables that have some.
    """
    found = sorted((t for t in _REGISTRY if t.table == table), key=lambda t: t.name)
    if not found:
        tables = ", ".join(sorted({t.table for t in _REGISTRY}))
        raise UnknownTriggerError(f"no triggers on table {table!r}: tables are {tables}")
    return found


def get_all_trigger_names() -> list[str]:
    """Every registered trigger name, sorted."""
    return sorted(DATABASE_TRIGGERS)


_INSTALLED = """
SELECT t.tgname, c.relname, p.proname,
       CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE'
            WHEN t.tgtype & 64 <> 0 THEN 'INSTEAD OF' ELSE 'AFTER' END,
       array_remove(ARRAY[
           CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' END,
           CASE WHEN t.tgtype & 16 <> 0 THEN 'UPDATE' END,
           CASE WHEN t.tgtype & 8 <> 0 THEN 'DELETE' END,
           CASE WHEN t.tgtype & 32 <> 0 THEN 'TRUNCATE' END], NULL),
       ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.num
             ORDER BY k.ord),
       substring(pg_get_triggerdef(t.oid) FROM ' WHEN \\((.*)\\) EXECUTE '),
       CASE WHEN t.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END,
       t.tgenabled <> 'D'
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE NOT t.tgisinternal AND n.nspname = current_schema()
ORDER BY t.tgname
"""


def installed_triggers(conn: psycopg.Connection[Any]) -> dict[str, InstalledTrigger]:
    """The user triggers in *conn*'s current schema, read from ``pg_trigger``, by name."""
    with conn.cursor() as cur:
        rows = cur.execute(_INSTALLED).fetchall()
    return {row[0]: _installed(row) for row in rows}


def _installed(row: tuple[Any, ...]) -> InstalledTrigger:
    name, table, function, timing, events, columns, condition, for_each, enabled = row
    return InstalledTrigger(
        name, table, function, timing, tuple(events), tuple(columns), condition, for_each, enabled
    )


def trigger_drift(conn: psycopg.Connection[Any]) -> list[str]:
    """How the database at *conn* differs from `DATABASE_TRIGGERS`; empty when they match.

    Reports triggers in the database but not registered, registered but
    missing, disabled, or different in table, function, timing, events,
    columns, level or condition. Conditions compare after normalising case,
    whitespace and parentheses, as PostgreSQL re-prints them.
    """
    installed = installed_triggers(conn)
    problems = [
        f"{name}: in the database but not registered"
        for name in installed.keys() - DATABASE_TRIGGERS.keys()
    ]
    for name, expected in DATABASE_TRIGGERS.items():
        actual = installed.get(name)
        if actual is None:
            problems.append(f"{name}: registered but not in the database")
        else:
            problems.extend(f"{name}: {diff}" for diff in _differences(expected, actual))
    return sorted(problems)


def _differences(expected: TriggerMetadata, actual: InstalledTrigger) -> list[str]:
    pairs = {
        "table": (expected.table, actual.table),
        "function": (expected.function, actual.function),
        "timing": (expected.timing, actual.timing),
        "events": (expected.events, actual.events),
        "columns": (expected.columns, actual.columns),
        "for_each": (expected.for_each, actual.for_each),
        "condition": (_normal(expected.condition), _normal(actual.condition)),
    }
    diffs = [
        f"{key} is {want!r} in the registry, {got!r} in the database"
        for key, (want, got) in pairs.items()
        if want != got
    ]
    return diffs if actual.enabled else [*diffs, "disabled in the database"]


def _normal(condition: str | None) -> str | None:
    if condition is None:
        return None
    return re.sub(r"\s+", " ", re.sub(r"[()]", " ", condition)).strip().lower()
