"""Row changes of ``--write`` mode: parsing the form, the SQL it runs, and running it.

The same function builds the statement for the confirm page (values as
literals, for reading) and for execution (values as bound ``%t`` parameters),
so what the user confirms is what runs.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg import sql

from codex_db import errors
from codex_db.studio._browse import Row
from codex_db.studio._catalog import Table, ident
from codex_db.studio._http import HTTPError, Request

__all__ = [
    "ACTIONS",
    "Change",
    "NoRowError",
    "apply_change",
    "changed_values",
    "describe_error",
    "parameters",
    "parse_change",
    "statement",
]

ACTIONS = ("insert", "update", "delete")

_PREFIXES = ("v.", "n.", "d.")


class Change(msgspec.Struct, frozen=True):
    """One insert, update or delete of one row; every column name in it was checked."""

    action: str
    key: tuple[str, ...] = ()
    """The primary key (as text) of the row to update or delete."""
    values: dict[str, str | None] = {}
    """Column -> new value as text (``None``: NULL); absent columns keep their default."""


class NoRowError(Exception):
    """An update or delete matched no row (someone else changed it)."""


def parse_change(table: Table, request: Request) -> Change:
    """The `Change` a form posted: ``action``, ``k`` (key) and ``v.``/``n.``/``d.`` fields.

    ``v.col`` is a value, ``n.col`` (checkbox) makes it NULL, ``d.col`` leaves it to
    the column default. Unknown columns are a 400 error.
    """
    if not table.editable:
        raise HTTPError(
            400, f"{table.key!r} cannot be edited: it is not a table with a primary key"
        )
    action = request.arg("action")
    if action not in ACTIONS:
        raise HTTPError(400, f"unknown action {action!r}: expected insert, update or delete")
    key = tuple(request.args("k"))
    if action != "insert" and len(key) != len(table.primary_key):
        raise HTTPError(400, f"{action} needs the row's key ({', '.join(table.primary_key)})")
    values = {} if action == "delete" else _values(table, request.form)
    return Change(action, key if action != "insert" else (), values)


def statement(table: Table, change: Change, *, literal: bool = False) -> sql.Composed:
    """The statement of *change*; with *literal*, values are inlined for display only."""
    name = _display_name if literal else ident
    target = name(table.schema, table.name)

    def value(text: str | None) -> sql.Composable:
        return sql.Literal(text) if literal else sql.SQL("%t")

    names = list(change.values)
    returning = sql.SQL(" RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(name(k)) for k in table.primary_key)
    )
    if change.action == "insert" and not names:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES{}").format(target, returning)
    if change.action == "insert":
        return sql.SQL("INSERT INTO {} ({}) VALUES ({}){}").format(
            target,
            sql.SQL(", ").join(name(n) for n in names),
            sql.SQL(", ").join(value(change.values[n]) for n in names),
            returning,
        )
    keys = zip(
        table.primary_key, change.key if literal else [None] * len(table.primary_key), strict=True
    )
    where = sql.SQL(" AND ").join(sql.SQL("{} = {}").format(name(k), value(v)) for k, v in keys)
    if change.action == "update":
        sets = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(name(n), value(change.values[n])) for n in names
        )
        return sql.SQL("UPDATE {} SET {} WHERE {}{}").format(target, sets, where, returning)
    return sql.SQL("DELETE FROM {} WHERE {}{}").format(target, where, returning)


def parameters(change: Change) -> list[str | None]:
    """The bound values of `statement()`, in placeholder order."""
    if change.action == "delete":
        return list(change.key)
    return [*change.values.values(), *change.key]


def apply_change(conn: psycopg.Connection[Any], table: Table, change: Change) -> tuple[str, ...]:
    """Run *change* in its own transaction and return the key of the row it touched.

    Raises:
        NoRowError: an update or delete matched no row (nothing was changed).
        psycopg.Error: the database refused it (see `describe_error`).
    """
    with conn.transaction():
        rows: list[Row] = conn.execute(statement(table, change), parameters(change)).fetchall()
        if len(rows) != 1:
            raise NoRowError(f"{change.action} matched {len(rows)} rows: nothing was changed")
    return tuple(v or "" for v in rows[0])


def describe_error(exc: psycopg.Error) -> str:
    """A readable message for a refused change, naming the constraint that refused it."""
    kinds = (
        (errors.is_unique_violation, "unique violation"),
        (errors.is_foreign_key_violation, "foreign key violation"),
        (errors.is_not_null_violation, "not-null violation"),
        (errors.is_check_violation, "check violation"),
    )
    kind = next((label for test, label in kinds if test(exc)), None)
    if exc.sqlstate == "23001":  # PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation
        kind = "foreign key violation (restrict)"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lines = [f"{kind}: {first}" if kind else first]
    constraint = errors.get_constraint_name(exc)
    if constraint:
        lines.append(f"constraint: {constraint}")
    detail = errors.get_error_detail(exc)
    if detail:
        lines.append(f"detail: {detail}")
    return "\n".join(lines)


def changed_values(table: Table, current: Row, change: Change) -> Change:
    """*change* keeping only the values that differ from the *current* row."""
    names = table.column_names
    kept = {k: v for k, v in change.values.items() if _lf(current[names.index(k)]) != v}
    return msgspec.structs.replace(change, values=kept)


def _lf(text: str | None) -> str | None:
    """*text* with CRLF line breaks as LF, as form values arrive (see `_values`)."""
    return None if text is None else text.replace("\r\n", "\n")


def _values(table: Table, form: dict[str, list[str]]) -> dict[str, str | None]:
    for field in form:
        if field.startswith(_PREFIXES):
            table.column(field[2:])
    values: dict[str, str | None] = {}
    for column in table.columns:
        name = column.name
        if not column.writable or f"d.{name}" in form:
            continue
        if f"n.{name}" in form:
            values[name] = None
        elif f"v.{name}" in form:
            # Browsers send a textarea's line breaks as CRLF whatever the page held
            # (HTML's form encoding): take them as the LF the user typed or kept.
            values[name] = _lf(form[f"v.{name}"][0])
    return values


def _display_name(*names: str) -> sql.Composable:
    return sql.Identifier(*names)
