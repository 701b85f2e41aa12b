"""What a schema differ gets wrong: flags on generated migration statements.

A differ sees two end states, not the change that led there. `find()` marks
the statements a reviewer must look at before a generated migration is applied:
a rename that shows up as drop + add (data loss), an enum value added by
rebuilding the type, a plain ``CREATE INDEX`` that blocks writes on an existing
table, and the like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

__all__ = ["Hazard", "find"]

_IDENT = r'"?([\w$]+)"?'
_QUALIFIED = rf"(?:{_IDENT}\.)?{_IDENT}"
_DROP_COLUMN = re.compile(rf"^alter table {_QUALIFIED} drop column {_IDENT}", re.I)
_ADD_COLUMN = re.compile(rf"^alter table {_QUALIFIED} add column {_IDENT}", re.I)
_DROP_TABLE = re.compile(rf"^drop table (?:if exists )?{_QUALIFIED}", re.I)
_CREATE_TABLE = re.compile(rf"^create (?:unlogged )?table (?:if not exists )?{_QUALIFIED}", re.I)
_ENUM_REBUILD = re.compile(
    rf"^alter type {_QUALIFIED} rename to .*__old_version_to_be_dropped", re.I
)
_CREATE_INDEX = re.compile(
    rf"^create (?:unique )?index (?!concurrently)(?:.*?) on (?:only )?{_QUALIFIED}", re.I | re.S
)
_SET_NOT_NULL = re.compile(rf"^alter table {_QUALIFIED} alter column {_IDENT} set not null", re.I)
_SET_TYPE = re.compile(rf"^alter table {_QUALIFIED} alter column {_IDENT} (?:set data )?type", re.I)


class Hazard(msgspec.Struct, frozen=True):
    """One statement to review, with why and what to do instead."""

    kind: str
    statement: str
    message: str

    def describe(self) -> str:
        """``kind: message`` on one line."""
        return f"{self.kind}: {self.message}"


def find(statements: Iterable[str], existing_tables: Iterable[str] = ()) -> list[Hazard]:
    """The hazards in *statements* (a forward migration, in order).

    *existing_tables* are the ``schema.table`` names present before the
    migration: only an index on one of those blocks writes to live data.
    """
    items = list(statements)
    existing = set(existing_tables)
    found: list[Hazard] = []
    found += _renames(items)
    for statement in items:
        found += _single(statement, existing)
    return found


def _renames(statements: list[str]) -> list[Hazard]:
    dropped_cols = _matches(_DROP_COLUMN, statements, with_column=True)
    added_cols = _matches(_ADD_COLUMN, statements, with_column=True)
    dropped_tables = _matches(_DROP_TABLE, statements)
    created_tables = _matches(_CREATE_TABLE, statements)
    found: list[Hazard] = []
    for (table, column), statement in dropped_cols.items():
        added = sorted(col for (tbl, col) in added_cols if tbl == table)
        if added:
            message = (
                f"{table}.{column} is dropped and {', '.join(added)} added: if this is a rename,"
                f" the data in {column} is lost; write ALTER TABLE ... RENAME COLUMN instead"
            )
            found.append(Hazard("rename", statement, message))
        else:
            message = f"dropping {table}.{column} deletes its data; make sure nothing reads it"
            found.append(Hazard("data-loss", statement, message))
    for (table, _), statement in dropped_tables.items():
        if created_tables:
            others = ", ".join(sorted(t for t, _ in created_tables))
            message = (
                f"table {table} is dropped and {others} created: if this is a rename,"
                " its rows are lost; write ALTER TABLE ... RENAME TO instead"
            )
            found.append(Hazard("rename", statement, message))
        else:
            found.append(Hazard("data-loss", statement, f"dropping table {table} deletes its rows"))
    return found


def _single(statement: str, existing: set[str]) -> list[Hazard]:
    if match := _ENUM_REBUILD.match(statement):
        name = _name(match.group(1), match.group(2))
        message = (
            f"enum {name} is rebuilt (rename, create, convert every column, drop): a table"
            f" rewrite under an exclusive lock; to add a value write"
            f" ALTER TYPE {name} ADD VALUE '...' instead"
        )
        return [Hazard("enum-rebuild", statement, message)]
    match = _CREATE_INDEX.match(statement)
    if match and _name(match.group(1), match.group(2)) in existing:
        table = _name(match.group(1), match.group(2))
        message = (
            f"plain CREATE INDEX on existing table {table} blocks writes while it builds:"
            " use CREATE INDEX CONCURRENTLY in a separate migration marked"
            " `-- transactional: false`"
        )
        return [Hazard("blocking-index", statement, message)]
    if match := _SET_NOT_NULL.match(statement):
        table, column = _name(match.group(1), match.group(2)), match.group(3)
        message = f"SET NOT NULL on {table}.{column} fails if a row holds NULL: backfill first"
        return [Hazard("not-null", statement, message)]
    if match := _SET_TYPE.match(statement):
        table, column = _name(match.group(1), match.group(2)), match.group(3)
        message = f"changing the type of {table}.{column} may rewrite the table under a lock"
        return [Hazard("type-change", statement, message)]
    return []


def _matches(
    pattern: re.Pattern[str], statements: list[str], *, with_column: bool = False
) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for statement in statements:
        if match := pattern.match(statement):
            column = match.group(3) if with_column else ""
            found[(_name(match.group(1), match.group(2)), column)] = statement
    return found


def _name(schema: str | None, name: str) -> str:
    return f"{schema or 'public'}.{name}"
