"""What a differ cannot see: renames and backfills, declared by the user or asked about.

A schema differ compares two end states: a renamed column looks like one
dropped and another added. `Intent` holds what the user declared (``--rename
TABLE.OLD=NEW``, ``--rename-table OLD=NEW``, ``--backfill TABLE.COLUMN=SQL``,
``--allow-data-loss``), `ask_renames()` turns the drops-plus-adds a terminal
user confirms into renames, and `rename_statements()` writes the ``ALTER ...
RENAME`` statements, including those of the constraints, indexes, triggers and
sequences whose definition is unchanged but whose name follows the new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

from codex_db.errors import CodexDBError
from codex_db.workflow import catalog

__all__ = [
    "Backfill",
    "ChangeError",
    "ColumnRename",
    "Intent",
    "TableRename",
    "ask_renames",
    "check_intent",
    "dependent_renames",
    "parse_backfill",
    "parse_column_rename",
    "parse_table_rename",
    "rename_statements",
    "reverse_renames",
]

#: ``ask(question) -> bool``: a yes/no question on a terminal.
Ask = Callable[[str], bool]

_NAME = r"[A-Za-z_][\w$]*"


class ChangeError(CodexDBError):
    """A declared change does not fit the schemas (unknown table or column, bad syntax)."""


class ColumnRename(msgspec.Struct, frozen=True):
    """``--rename TABLE.OLD=NEW``: column *old* of *table* is now *new* (same data)."""

    table: str
    """``schema.table`` as it is named in ``sql/`` (after any table rename)."""
    old: str
    new: str

    def describe(self) -> str:
        """``content.like_count -> likes_total``."""
        return f"{_short(self.table)}.{self.old} -> {self.new}"


class TableRename(msgspec.Struct, frozen=True):
    """``--rename-table OLD=NEW``: table *old* is now *new*, with its rows."""

    old: str
    """``schema.table``."""
    new: str
    """``schema.table``."""

    def describe(self) -> str:
        """``organizations -> orgs``."""
        return f"{_short(self.old)} -> {_short(self.new)}"


class Backfill(msgspec.Struct, frozen=True):
    """``--backfill TABLE.COLUMN=SQL``: the value existing rows get for a new NOT NULL column."""

    table: str
    column: str
    expression: str


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the user told ``gen`` that the two schemas cannot show."""

    columns: tuple[ColumnRename, ...] = ()
    tables: tuple[TableRename, ...] = ()
    backfills: tuple[Backfill, ...] = ()
    allow_data_loss: bool = False

    def backfill(self, table: str, column: str) -> Backfill | None:
        """The backfill declared for *table*.*column*, if any."""
        return next((b for b in self.backfills if (b.table, b.column) == (table, column)), None)


def parse_column_rename(text: str) -> ColumnRename:
    """``TABLE.OLD=NEW`` (or ``SCHEMA.TABLE.OLD=NEW``) as a `ColumnRename`."""
    match = re.fullmatch(rf"\s*(?:({_NAME})\.)?({_NAME})\.({_NAME})\s*=\s*({_NAME})\s*", text)
    if match is None:
        raise ChangeError(
            f"--rename {text!r}: expected TABLE.OLD=NEW,"
            " e.g. --rename content.like_count=likes_total"
        )
    schema, table, old, new = match.groups()
    return ColumnRename(f"{schema or 'public'}.{table}", old, new)


def parse_table_rename(text: str) -> TableRename:
    """``OLD=NEW`` (optionally schema-qualified) as a `TableRename`."""
    match = re.fullmatch(rf"\s*(?:({_NAME})\.)?({_NAME})\s*=\s*(?:({_NAME})\.)?({_NAME})\s*", text)
    if match is None:
        raise ChangeError(
            f"--rename-table {text!r}: expected OLD=NEW, e.g. --rename-table organizations=orgs"
        )
    old_schema, old, new_schema, new = match.groups()
    return TableRename(
        f"{old_schema or 'public'}.{old}", f"{new_schema or old_schema or 'public'}.{new}"
    )


def parse_backfill(text: str) -> Backfill:
    """``TABLE.COLUMN=SQL`` as a `Backfill` (the SQL expression is taken as written)."""
    match = re.fullmatch(rf"\s*(?:({_NAME})\.)?({_NAME})\.({_NAME})\s*=(.+)", text, re.S)
    if match is None or not match.group(4).strip():
        raise ChangeError(
            f"--backfill {text!r}: expected TABLE.COLUMN=SQL_EXPRESSION,"
            " e.g. --backfill \"content.summary=coalesce(description, '')\""
        )
    schema, table, column, expression = match.groups()
    return Backfill(f"{schema or 'public'}.{table}", column, expression.strip())


def check_intent(intent: Intent, before: catalog.Snapshot, after: catalog.Snapshot) -> None:
    """Raise `ChangeError` when a declared change names what the schemas do not hold."""
    tables_before, tables_after = before.get("table", {}), after.get("table", {})
    for table in intent.tables:
        if table.old not in tables_before:
            raise ChangeError(f"--rename-table: {_short(table.old)} is not a table of migrations/")
        if table.new not in tables_after or table.new in tables_before:
            raise ChangeError(
                f"--rename-table: {_short(table.new)} must be a table of sql/ that migrations/"
                " do not have yet"
            )
    renamed = {r.new: r.old for r in intent.tables}
    columns_before, columns_after = before.get("column", {}), after.get("column", {})
    for rename in intent.columns:
        source = renamed.get(rename.table, rename.table)
        if f"{source}.{rename.old}" not in columns_before:
            raise ChangeError(
                f"--rename {rename.describe()}: migrations/ have no column"
                f" {_short(source)}.{rename.old}"
            )
        if f"{rename.table}.{rename.new}" not in columns_after:
            raise ChangeError(
                f"--rename {rename.describe()}: sql/ has no column"
                f" {_short(rename.table)}.{rename.new}"
            )
    for fill in intent.backfills:
        if f"{fill.table}.{fill.column}" not in columns_after:
            raise ChangeError(
                f"--backfill {_short(fill.table)}.{fill.column}: sql/ has no such column"
            )


def ask_renames(
    intent: Intent, before: catalog.Snapshot, after: catalog.Snapshot, ask: Ask | None
) -> Intent:
    """*intent* plus the renames a terminal user confirms, Drizzle Kit style.

    For every table with columns only in ``migrations/`` and columns only in
    ``sql/`` (and every pair of tables only on one side), *ask* is asked
    whether the new one is the old one renamed. Without *ask* (no terminal,
    ``--yes``) nothing is asked: the flags are the only answers.
    """
    if ask is None:
        return intent
    tables = list(intent.tables)
    gone = sorted(
        set(before.get("table", {})) - set(after.get("table", {})) - {t.old for t in tables}
    )
    new = sorted(
        set(after.get("table", {})) - set(before.get("table", {})) - {t.new for t in tables}
    )
    for old in gone:
        for candidate in new:
            if ask(f"is table {_short(candidate)} renamed from {_short(old)}?"):
                tables.append(TableRename(old, candidate))
                new.remove(candidate)
                break
    columns = list(intent.columns)
    renamed = {t.new: t.old for t in tables}
    for table in sorted(after.get("table", {})):
        source = renamed.get(table, table)
        dropped = _only_columns(before, source, after, table)
        added = _only_columns(after, table, before, source)
        dropped = [c for c in dropped if not any(r.table == table and r.old == c for r in columns)]
        added = [c for c in added if not any(r.table == table and r.new == c for r in columns)]
        for column in added:
            for old in dropped:
                if ask(f"is {_short(table)}.{column} renamed from {old}?"):
                    columns.append(ColumnRename(table, old, column))
                    dropped.remove(old)
                    break
    return msgspec.structs.replace(intent, columns=tuple(columns), tables=tuple(tables))


def rename_statements(intent: Intent) -> list[str]:
    """The ``ALTER TABLE ... RENAME`` statements of the declared renames (tables first)."""
    statements = [
        f"ALTER TABLE {_quote(r.old)} RENAME TO {_ident(r.new.split('.', 1)[1])}"
        for r in intent.tables
    ]
    statements += [
        f"ALTER TABLE {_quote(r.table)} RENAME COLUMN {_ident(r.old)} TO {_ident(r.new)}"
        for r in intent.columns
    ]
    return statements


def reverse_renames(intent: Intent) -> list[str]:
    """The statements that undo `rename_statements()`, in reverse order."""
    statements = [
        f"ALTER TABLE {_quote(r.table)} RENAME COLUMN {_ident(r.new)} TO {_ident(r.old)}"
        for r in reversed(intent.columns)
    ]
    statements += [
        f"ALTER TABLE {_quote(r.new)} RENAME TO {_ident(r.old.split('.', 1)[1])}"
        for r in reversed(intent.tables)
    ]
    return statements


def dependent_renames(current: catalog.Snapshot, target: catalog.Snapshot) -> list[tuple[str, str]]:
    """``(forward, backward)`` renames of objects whose definition matches but name differs.

    After a table or column rename, its constraints, indexes, triggers and
    sequences keep their old names; where ``sql/`` has exactly one object of
    the same kind, table and definition under another name, it is renamed
    rather than dropped and rebuilt. Constraints come first (renaming a primary
    key or unique constraint renames its index too): call again after applying.
    """
    for kind, pair in (
        ("constraint", _constraint_renames),
        ("index", _index_renames),
        ("trigger", _trigger_renames),
        ("sequence", _sequence_renames),
    ):
        found = pair(current.get(kind, {}), target.get(kind, {}))
        if found:
            return found
    return []


def _constraint_renames(ours: dict[str, str], theirs: dict[str, str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for (table, old), (_, new) in _pairs(ours, theirs, _split_last, lambda d, n: d):
        found.append(
            (
                f"ALTER TABLE {_quote(table)} RENAME CONSTRAINT {_ident(old)} TO {_ident(new)}",
                f"ALTER TABLE {_quote(table)} RENAME CONSTRAINT {_ident(new)} TO {_ident(old)}",
            )
        )
    return found


def _index_renames(ours: dict[str, str], theirs: dict[str, str]) -> list[tuple[str, str]]:
    def table_of(definition: str) -> str:
        match = re.search(r" ON (?:ONLY )?(\S+) USING ", definition)
        return match.group(1) if match else ""

    def same(definition: str, name: str) -> str:
        return definition.replace(f" {name} ON ", " ? ON ", 1).replace(
            f' "{name}" ON ', " ? ON ", 1
        )

    found: list[tuple[str, str]] = []
    for (schema, old), (_, new) in _pairs(ours, theirs, _split_first, same, table_of):
        found.append(
            (
                f"ALTER INDEX {_ident(schema)}.{_ident(old)} RENAME TO {_ident(new)}",
                f"ALTER INDEX {_ident(schema)}.{_ident(new)} RENAME TO {_ident(old)}",
            )
        )
    return found


def _trigger_renames(ours: dict[str, str], theirs: dict[str, str]) -> list[tuple[str, str]]:
    def same(definition: str, name: str) -> str:
        return re.sub(
            rf"^CREATE (CONSTRAINT )?TRIGGER \"?{re.escape(name)}\"? ",
            "CREATE TRIGGER ? ",
            definition,
        )

    found: list[tuple[str, str]] = []
    for (table, old), (_, new) in _pairs(ours, theirs, _split_last, same):
        found.append(
            (
                f"ALTER TRIGGER {_ident(old)} ON {_quote(table)} RENAME TO {_ident(new)}",
                f"ALTER TRIGGER {_ident(new)} ON {_quote(table)} RENAME TO {_ident(old)}",
            )
        )
    return found


def _sequence_renames(ours: dict[str, str], theirs: dict[str, str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for (schema, old), (_, new) in _pairs(ours, theirs, _split_first, lambda d, n: d):
        found.append(
            (
                f"ALTER SEQUENCE {_ident(schema)}.{_ident(old)} RENAME TO {_ident(new)}",
                f"ALTER SEQUENCE {_ident(schema)}.{_ident(new)} RENAME TO {_ident(old)}",
            )
        )
    return found


def _pairs(
    ours: dict[str, str],
    theirs: dict[str, str],
    split: Callable[[str], tuple[str, str]],
    normal: Callable[[str, str], str],
    group: Callable[[str], str] | None = None,
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Objects only in *ours* matched one to one with objects only in *theirs*.

    Two match when they belong to the same owner (*split*'s first part, or
    *group* of the definition) and their definitions, with the name taken out
    by *normal*, are equal. Ambiguous groups are left alone.
    """

    def keyed(
        side: dict[str, str], other: dict[str, str]
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        found: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key in sorted(side.keys() - other.keys()):
            owner, name = split(key)
            definition = side[key]
            bucket = (group(definition) if group else owner, normal(definition, name))
            found.setdefault(bucket, []).append((owner, name))
        return found

    mine, yours = keyed(ours, theirs), keyed(theirs, ours)
    return [
        (mine[bucket][0], yours[bucket][0])
        for bucket in sorted(mine.keys() & yours.keys())
        if len(mine[bucket]) == 1 and len(yours[bucket]) == 1
    ]


def _split_first(key: str) -> tuple[str, str]:
    schema, _, name = key.partition(".")
    return schema, name


def _split_last(key: str) -> tuple[str, str]:
    owner, _, name = key.rpartition(".")
    return owner, name


def _only_columns(
    side: catalog.Snapshot, table: str, other: catalog.Snapshot, other_table: str
) -> list[str]:
    prefix, other_prefix = f"{table}.", f"{other_table}."
    mine = {k[len(prefix) :] for k in side.get("column", {}) if k.startswith(prefix)}
    yours = {k[len(other_prefix) :] for k in other.get("column", {}) if k.startswith(other_prefix)}
    return sorted(mine - yours)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f"{_ident(schema)}.{_ident(name)}"


def _short(qualified: str) -> str:
    return qualified.removeprefix("public.")
