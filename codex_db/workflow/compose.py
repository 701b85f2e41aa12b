"""From a differ's statements to migrations that are safe on a live database.

The ``results`` differ writes what turns one schema into the other; it does not
know which tables hold rows, which locks block traffic, or what squawk will
say. `compose()` rewrites its output into at most three migrations:

- **main** (transactional): renames first, then the changes in the differ's
  order. A new NOT NULL column without a default becomes nullable plus the
  declared backfill; new FKs and CHECKs on existing tables are added
  ``NOT VALID``; on a table created here they are plain (nothing to validate);
  a dropped table is one ``DROP TABLE``.
- **indexes** (``-- transactional: false``): every index built or dropped on an
  existing table, ``CONCURRENTLY`` and re-runnable (``IF [NOT] EXISTS``), with
  ``SET lock_timeout`` (``SET LOCAL`` means nothing outside a transaction).
- **validate** (transactional): ``VALIDATE CONSTRAINT`` for what main added
  ``NOT VALID`` and ``SET NOT NULL`` behind a validated check, so no statement
  holds a lock that blocks reads while it scans the table.

Each statement carries the squawk rules it is allowed to break, with the
reason (a declared rename, accepted data loss, a measured rewrite), and the
review lines ``gen`` prints.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from codex_db.errors import CodexDBError
from codex_db.workflow import catalog
from codex_db.workflow.changes import Intent

__all__ = [
    "Composition",
    "Draft",
    "NeedsDecisionError",
    "Review",
    "Step",
    "collapse",
    "compose",
    "rollback",
]

Role = Literal["main", "indexes", "validate"]

#: First statement of a transactional migration: give up rather than queue behind a
#: long transaction while holding a lock every later query waits for.
LOCK_TIMEOUT_LOCAL = "SET LOCAL lock_timeout = '5s'"
#: The same for a non-transactional one, where ``SET LOCAL`` has no effect.
LOCK_TIMEOUT_SESSION = "SET lock_timeout = '5s'"

_Q = r'(?:"(?:[^"]|"")+"|[\w$]+)'
_QN = rf"(?P<schema>{_Q})\.(?P<table>{_Q})"
_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.I | re.S)
    for name, pattern in {
        "create_table": rf"^create (?:unlogged )?table (?:if not exists )?{_QN}",
        "drop_table": rf"^drop table (?:if exists )?{_QN}\s*$",
        "add_column": rf"^alter table {_QN} add column (?P<column>{_Q}) (?P<rest>.*)$",
        "drop_column": rf"^alter table {_QN} drop column (?P<column>{_Q})\s*$",
        "set_type": rf"^alter table {_QN} alter column (?P<column>{_Q}) set data type ",
        "set_not_null": rf"^alter table {_QN} alter column (?P<column>{_Q}) set not null\s*$",
        "attach": rf"^alter table {_QN} add constraint (?P<name>{_Q})"
        rf" (?:primary key|unique) using index (?P<index>{_Q})\s*$",
        "add_constraint": rf"^alter table {_QN} add constraint (?P<name>{_Q}) (?P<body>.*?)"
        r"(?P<not_valid> not valid)?\s*$",
        "validate": rf"^alter table {_QN} validate constraint (?P<name>{_Q})\s*$",
        "drop_constraint": rf"^alter table {_QN} drop constraint (?P<name>{_Q})\s*$",
        "create_index": r"^create (?P<unique>unique )?index (?:concurrently )?(?:if not exists )?"
        rf"(?P<name>{_Q}) on (?:only )?{_QN} (?P<rest>using .*)$",
        "drop_index": rf"^drop index (?:concurrently )?(?:if exists )?(?P<schema>{_Q})\."
        rf"(?P<name>{_Q})\s*$",
        "drop_trigger": rf"^drop trigger (?:if exists )?(?P<name>{_Q}) on {_QN}\s*$",
        "enum_rebuild": rf"^alter type {_QN} rename to (?P<name>{_Q})\s*$",
    }.items()
}


class NeedsDecisionError(CodexDBError):
    """A change needs a decision only the user can make (a backfill, accepting data loss).

    *decision* is ``"data-loss"`` (a terminal may ask to accept it) or ``"backfill"``.
    """

    def __init__(self, message: str, decision: Literal["data-loss", "backfill"]) -> None:
        super().__init__(message)
        self.decision = decision


class Step(msgspec.Struct, frozen=True):
    """One statement of a migration, with the squawk rules it may break and why."""

    sql: str
    ignores: tuple[tuple[str, str], ...] = ()
    undo: tuple[str, ...] = ()
    """What undoes it (indexes and validate migrations; main's rollback is diffed)."""

    def render(self) -> str:
        """The statement as written in the file: its ignore comments, then the SQL."""
        lines = [f"-- squawk-ignore {rule} -- {why}" for rule, why in self.ignores]
        sql = self.sql.rstrip().rstrip(";")
        return "\n".join([*lines, sql + ";"])


class Draft(msgspec.Struct, frozen=True):
    """One migration to write: its role, whether it runs in a transaction, its steps."""

    role: Role
    transactional: bool
    steps: tuple[Step, ...]


class Review(msgspec.Struct, frozen=True):
    """A line for the reviewer: what a statement does to a live database."""

    kind: str
    statement: str
    message: str

    def describe(self) -> str:
        """``kind: message`` on one line."""
        return f"{self.kind}: {self.message}"


class Composition(msgspec.Struct, frozen=True):
    """The drafts (main, indexes, validate; empty ones left out) and the review lines."""

    drafts: tuple[Draft, ...]
    reviews: tuple[Review, ...]


class _Builder:
    """Collects steps per role while `compose()` walks the differ's statements."""

    def __init__(self, before: catalog.Snapshot, after: catalog.Snapshot, intent: Intent) -> None:
        self.before, self.after, self.intent = before, after, intent
        self.tables_before = set(before.get("table", {}))
        self.new_tables = set(after.get("table", {})) - self.tables_before
        self.steps: dict[Role, list[Step]] = {"main": [], "indexes": [], "validate": []}
        self.reviews: list[Review] = []
        self.inline: set[tuple[str, str]] = set()  # constraints added valid on new tables
        self.concurrent: set[str] = set()  # schema.index built in the indexes migration

    def add(
        self, role: Role, sql: str, *ignores: tuple[str, str], undo: tuple[str, ...] = ()
    ) -> None:
        self.steps[role].append(Step(sql, tuple(ignores), undo))

    def review(self, kind: str, statement: str, message: str) -> None:
        self.reviews.append(Review(kind, statement, message))


def compose(
    renames: list[tuple[str, str]],
    statements: list[str],
    before: catalog.Snapshot,
    after: catalog.Snapshot,
    intent: Intent,
) -> Composition:
    """Turn the renames and the differ's *statements* into safe migrations.

    *renames* are ``(statement, reason)`` pairs, run first; *before* is the
    schema the differ started from (renames applied), *after* the target.

    Raises:
        NeedsDecisionError: a NOT NULL column without a default on a table with
            rows and no ``--backfill``, or a drop without ``--allow-data-loss``;
            the message names both fixes.
    """
    build = _Builder(before, after, intent)
    for sql, reason in renames:
        rule = (
            "renaming-column"
            if " RENAME COLUMN " in sql
            else (
                "renaming-table"
                if re.search(r" RENAME TO ", sql) and sql.startswith("ALTER TABLE")
                else "renaming-object"
            )
        )
        build.add("main", sql, (rule, reason))
        if reason.startswith("declared rename"):
            build.review(
                "rename",
                sql,
                f"{_rename_subject(sql)} keeps its data; code that uses the old name fails once"
                " this runs: deploy the new code with the migration",
            )
    collapsed = collapse(statements, before)
    for statement in _with_enum_values(collapsed, before, after, build):
        _place(statement, build)
    drafts = [
        Draft(role, role != "indexes", tuple(_with_lock_timeout(role, steps)))
        for role, steps in build.steps.items()
        if steps
    ]
    return Composition(tuple(drafts), tuple(build.reviews))


def _rename_subject(sql: str) -> str:
    if m := re.search(r'RENAME COLUMN "(.+?)" TO "(.+?)"', sql):
        table = re.search(r'ALTER TABLE "(?:.+?)"\."(.+?)"', sql)
        return f"{table.group(1) if table else ''}.{m.group(1)} -> {m.group(2)}"
    if m := re.search(r'ALTER TABLE "(?:.+?)"\."(.+?)" RENAME TO "(.+?)"', sql):
        return f"table {m.group(1)} -> {m.group(2)}"
    return sql


def _with_lock_timeout(role: Role, steps: list[Step]) -> list[Step]:
    first = LOCK_TIMEOUT_SESSION if role == "indexes" else LOCK_TIMEOUT_LOCAL
    return [Step(first), *steps]


def collapse(statements: list[str], before: catalog.Snapshot) -> list[str]:
    """*statements* without what a DROP TABLE or DROP COLUMN among them drops anyway.

    *before* is the schema the statements start from (it maps indexes to tables).
    """
    dropped_tables = {_qualified(m) for s in statements if (m := _match("drop_table", s))}
    dropped_columns = {
        (_qualified(m), _unquote(m["column"]))
        for s in statements
        if (m := _match("drop_column", s))
    }
    dropped_constraints = {
        (_qualified(m), _unquote(m["name"]))
        for s in statements
        if (m := _match("drop_constraint", s))
    }
    kept: list[str] = []
    for statement in statements:
        owner = _owner(statement, before)
        if owner in dropped_tables and not _match("drop_table", statement):
            continue  # its constraints, indexes and triggers go with the table
        if (index := _match("drop_index", statement)) and (
            _index_on_dropped_column(index, dropped_columns, before)
            or (owner, _unquote(index["name"])) in dropped_constraints
        ):
            continue  # dropped with its column or its constraint
        kept.append(statement)
    return kept


def _place(statement: str, build: _Builder) -> None:
    for kind, place in _PLACERS.items():
        match = _match(kind, statement)
        if match is not None:
            place(statement, match, build)
            return
    build.add("main", statement)


def _place_drop_table(statement: str, m: re.Match[str], build: _Builder) -> None:
    table = _qualified(m)
    _require_data_loss(build, f"table {_short(table)} is dropped with its rows")
    build.add("main", statement, ("ban-drop-table", _loss_reason()))
    build.review("data-loss", statement, f"drops table {_short(table)} and every row in it")


def _place_drop_column(statement: str, m: re.Match[str], build: _Builder) -> None:
    column = f"{_short(_qualified(m))}.{_unquote(m['column'])}"
    _require_data_loss(build, f"column {column} is dropped with its data")
    build.add("main", statement, ("ban-drop-column", _loss_reason()))
    build.review("data-loss", statement, f"drops {column} and its data")


def _place_add_column(statement: str, m: re.Match[str], build: _Builder) -> None:
    table, column, rest = _qualified(m), _unquote(m["column"]), m["rest"]
    not_null = re.search(r"\bnot null\b", rest, re.I) is not None
    default = re.search(r"\bdefault\b(?P<expr>.*)$", rest, re.I)
    if not_null and default is None:
        _backfilled_column(statement, table, column, rest, build)
        return
    ignores: list[tuple[str, str]] = []
    if default is not None and "(" in default["expr"]:
        ignores.append(("adding-field-with-default", _REWRITE_REASON.format(table=_short(table))))
        build.review(
            "rewrite?",
            statement,
            f"the default of {_short(table)}.{column} is an expression: a volatile one"
            " (gen_random_uuid(), random()) rewrites the table under an exclusive lock;"
            " the rewrite is measured below",
        )
    build.add("main", statement, *ignores)


def _backfilled_column(statement: str, table: str, column: str, rest: str, build: _Builder) -> None:
    fill = build.intent.backfill(table, column)
    if fill is None:
        raise NeedsDecisionError(
            f"{_short(table)}.{column} is NOT NULL without a default: adding it fails on a table"
            " that holds rows. Either declare a default in sql/ (DEFAULT ...), or pass"
            f" --backfill {_short(table)}.{column}=SQL_EXPRESSION (the value existing rows get,"
            f" e.g. --backfill \"{_short(table)}.{column}=''\")",
            "backfill",
        )
    nullable = re.sub(r"\s*\bnot null\b", "", rest, flags=re.I).strip()
    build.add("main", f"ALTER TABLE {_quote(table)} ADD COLUMN {_ident(column)} {nullable}")
    _not_null_by_check(table, column, fill.expression, build)
    build.review(
        "backfill",
        statement,
        f"{_short(table)}.{column} is added nullable, filled with {fill.expression} in the same"
        " transaction, then made NOT NULL behind a validated check (the validate migration)",
    )


def _place_set_not_null(statement: str, m: re.Match[str], build: _Builder) -> None:
    table, column = _qualified(m), _unquote(m["column"])
    fill = build.intent.backfill(table, column)
    _not_null_by_check(table, column, fill.expression if fill else None, build)
    build.review(
        "not-null",
        statement,
        f"{_short(table)}.{column} becomes NOT NULL behind a check validated in its own"
        " migration; it fails if a row holds NULL"
        + (f" (rows are filled with {fill.expression} first)" if fill else ": pass --backfill"),
    )


def _not_null_by_check(table: str, column: str, fill: str | None, build: _Builder) -> None:
    target, col, check = _quote(table), _ident(column), _ident(_check_name(table, column))
    add_check = f"ALTER TABLE {target} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID"
    drop_check = f"ALTER TABLE {target} DROP CONSTRAINT {check}"
    if fill is not None:
        build.add("main", f"UPDATE {target} SET {col} = ({fill}) WHERE {col} IS NULL")
    build.add("main", add_check)
    build.add(
        "validate",
        f"ALTER TABLE {target} VALIDATE CONSTRAINT {check}",
        undo=(drop_check, add_check),
    )
    build.add(
        "validate",
        f"ALTER TABLE {target} ALTER COLUMN {col} SET NOT NULL",
        undo=(f"ALTER TABLE {target} ALTER COLUMN {col} DROP NOT NULL",),
    )
    build.add(
        "validate",
        drop_check,
        ("ban-drop-constraint", "a temporary check: the validated NOT NULL replaces it"),
        undo=(add_check,),
    )


def _place_set_type(statement: str, m: re.Match[str], build: _Builder) -> None:
    table = _short(_qualified(m))
    build.add("main", statement, ("changing-column-type", _REWRITE_REASON.format(table=table)))
    build.review(
        "type-change",
        statement,
        f"changes the type of {table}.{_unquote(m['column'])}; whether it rewrites"
        " the table is measured below",
    )


def _place_attach(statement: str, m: re.Match[str], build: _Builder) -> None:
    index = f"{_unquote(m['schema'])}.{_unquote(m['index'])}"
    if index in build.concurrent:
        undo = f"ALTER TABLE {m['schema']}.{m['table']} DROP CONSTRAINT {m['name']}"
        build.add("indexes", statement, undo=(undo,))
    else:
        build.add("main", statement)


def _place_add_constraint(statement: str, m: re.Match[str], build: _Builder) -> None:
    table = _qualified(m)
    if table in build.new_tables:
        # Nothing to validate on a table created in this migration: add it valid.
        build.inline.add((table, _unquote(m["name"])))
        build.add("main", statement[: m.start("not_valid")] if m["not_valid"] else statement)
        return
    if not m["not_valid"] and re.match(r"(check|foreign key)\b", m["body"], re.I):
        statement = f"{statement.rstrip()} NOT VALID"
    build.add("main", statement)


def _place_validate(statement: str, m: re.Match[str], build: _Builder) -> None:
    table = _qualified(m)
    name = _unquote(m["name"])
    if (table, name) in build.inline:
        return
    definition = build.after.get("constraint", {})[f"{table}.{name}"]
    undo = (
        f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_ident(name)}",
        f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_ident(name)} {definition} NOT VALID",
    )
    build.add("validate", statement, undo=undo)
    build.review(
        "validate",
        statement,
        f"{_short(table)}.{_unquote(m['name'])} is added NOT VALID (new rows are checked at once)"
        " and validated in its own migration, which scans the table without blocking writes",
    )


def _place_drop_constraint(statement: str, m: re.Match[str], build: _Builder) -> None:
    name = f"{_short(_qualified(m))}.{_unquote(m['name'])}"
    build.add("main", statement, ("ban-drop-constraint", "removed from or changed in sql/"))
    build.review("drop-constraint", statement, f"drops constraint {name}: reviewed as intended")


def _place_create_index(statement: str, m: re.Match[str], build: _Builder) -> None:
    table = _qualified(m)
    if table in build.new_tables:
        build.add("main", statement)
        return
    unique = "UNIQUE " if m["unique"] else ""
    index = f"{_unquote(m['schema'])}.{_unquote(m['name'])}"
    build.concurrent.add(index)
    build.add(
        "indexes",
        f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {m['name']} ON {m['schema']}.{m['table']}"
        f" {m['rest']}",
        undo=(f"DROP INDEX CONCURRENTLY IF EXISTS {m['schema']}.{m['name']}",),
    )
    build.review(
        "index",
        statement,
        f"index {_short(index)} on existing table {_short(table)} is built CONCURRENTLY"
        " in its own non-transactional migration (writes go on while it builds)",
    )


def _place_drop_index(statement: str, m: re.Match[str], build: _Builder) -> None:
    index = f"{_unquote(m['schema'])}.{_unquote(m['name'])}"
    undo = _concurrently(build.before.get("index", {})[index])
    build.add(
        "indexes", f"DROP INDEX CONCURRENTLY IF EXISTS {m['schema']}.{m['name']}", undo=(undo,)
    )
    build.review("index", statement, f"index {_short(index)} is dropped CONCURRENTLY")


def rollback(draft: Draft) -> list[Step]:
    """The rollback of an indexes or validate migration: each step's undo, in reverse order.

    A validated constraint cannot be made NOT VALID again: its undo drops it and
    adds it back ``NOT VALID`` (instant), which is the state before the migration.
    """
    first = LOCK_TIMEOUT_SESSION if draft.role == "indexes" else LOCK_TIMEOUT_LOCAL
    undo = [Step(sql) for step in reversed(draft.steps) for sql in step.undo]
    return [Step(first), *undo]


# -- enums ---------------------------------------------------------------------------------


def _with_enum_values(
    statements: list[str], before: catalog.Snapshot, after: catalog.Snapshot, build: _Builder
) -> list[str]:
    """Replace the differ's enum rebuild by ``ADD VALUE`` when values are only added."""
    result: list[str] = []
    skip: set[int] = set()
    for i, statement in enumerate(statements):
        if i in skip:
            continue
        m = _match("enum_rebuild", statement)
        if m is None:
            result.append(statement)
            continue
        name = _qualified(m)
        added = _added_labels(before, after, name)
        group = _rebuild_group(statements, i, name, _unquote(m["name"]))
        if added is None or group is None:
            result.append(statement)
            build.review(
                "enum-rebuild",
                statement,
                f"enum {_short(name)} is rebuilt and every column using it rewritten"
                " (values were removed or reordered)",
            )
            continue
        skip |= group
        for label, position in added:
            result.append(f"ALTER TYPE {_quote(name)} ADD VALUE {_literal(label)} {position}")
        build.review(
            "enum-value",
            statement,
            f"enum {_short(name)} gains {', '.join(label for label, _ in added)}"
            " with ALTER TYPE ... ADD VALUE (no rewrite); a new value cannot be used"
            " in the same transaction",
        )
    return result


def _added_labels(
    before: catalog.Snapshot, after: catalog.Snapshot, name: str
) -> list[tuple[str, str]] | None:
    old = _labels(before.get("type", {}).get(name, ""))
    new = _labels(after.get("type", {}).get(name, ""))
    if old is None or new is None or [label for label in new if label in old] != old:
        return None
    added: list[tuple[str, str]] = []
    for index, label in enumerate(new):
        if label in old:
            continue
        position = f"AFTER {_literal(new[index - 1])}" if index else f"BEFORE {_literal(new[1])}"
        added.append((label, position))
    return added


def _labels(definition: str) -> list[str] | None:
    if not definition.startswith("e "):
        return None
    return definition[2:].split(",")


def _rebuild_group(statements: list[str], start: int, name: str, old_name: str) -> set[int]:
    """The indexes of the statements of one enum rebuild (create, convert columns, drop)."""
    schema, _, type_name = name.partition(".")
    group: set[int] = set()
    old = re.compile(rf"^drop type {_Q}\.\"?{re.escape(old_name)}\"?\s*$", re.I)
    create = re.compile(rf"^create type {_Q}\.\"?{re.escape(type_name)}\"? as enum", re.I)
    convert = re.compile(rf"::text::\"?{re.escape(schema)}\"?\.\"?{re.escape(type_name)}\"?")
    for j in range(start + 1, len(statements)):
        text = _body(statements[j])
        if create.match(text) or convert.search(text):
            group.add(j)
        elif old.match(text):
            group.add(j)
            return group
    return set()


# -- helpers --------------------------------------------------------------------------------

_REWRITE_REASON = "reviewed by codex-db gen, which measures whether it rewrites {table}"


def _require_data_loss(build: _Builder, what: str) -> None:
    if not build.intent.allow_data_loss:
        raise NeedsDecisionError(
            f"{what}: if it is a rename, declare it (--rename TABLE.OLD=NEW or"
            " --rename-table OLD=NEW, or answer the question on a terminal); if the data"
            " should go, pass --allow-data-loss",
            "data-loss",
        )


def _loss_reason() -> str:
    return "data loss accepted with codex-db gen --allow-data-loss"


def _match(kind: str, statement: str) -> re.Match[str] | None:
    return _PATTERNS[kind].match(_body(statement))


def _body(statement: str) -> str:
    lines = [line for line in statement.strip().splitlines() if not line.strip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def _owner(statement: str, before: catalog.Snapshot) -> str | None:
    """The table a statement is about (for an index drop: the index's table)."""
    for kind in ("drop_table", "drop_constraint", "drop_trigger", "add_constraint", "validate"):
        if m := _match(kind, statement):
            return _qualified(m)
    if m := _match("drop_index", statement):
        definition = before.get("index", {}).get(f"{_unquote(m['schema'])}.{_unquote(m['name'])}")
        if definition and (on := re.search(r" ON (?:ONLY )?(\S+)\.(\S+) USING ", definition)):
            return f"{_unquote(on.group(1))}.{_unquote(on.group(2))}"
    return None


def _index_on_dropped_column(
    m: re.Match[str], dropped: set[tuple[str, str]], before: catalog.Snapshot
) -> bool:
    definition = before.get("index", {}).get(f"{_unquote(m['schema'])}.{_unquote(m['name'])}", "")
    on = re.search(r" ON (?:ONLY )?(\S+)\.(\S+) USING \w+ \((.*)\)", definition)
    if on is None:
        return False
    table = f"{_unquote(on.group(1))}.{_unquote(on.group(2))}"
    used = set(re.findall(r'"?([\w$]+)"?', on.group(3)))
    return any(t == table and column in used for t, column in dropped)


def _concurrently(definition: str) -> str:
    return re.sub(
        r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY IF NOT EXISTS ", definition
    )


def _check_name(table: str, column: str) -> str:
    return f"check_{table.split('.', 1)[1]}_{column}_not_null"[:63]


def _qualified(m: re.Match[str]) -> str:
    return f"{_unquote(m['schema'])}.{_unquote(m['table'])}"


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f"{_ident(schema)}.{_ident(name)}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _short(qualified: str) -> str:
    return qualified.removeprefix("public.")


_PLACERS = {
    "drop_table": _place_drop_table,
    "drop_column": _place_drop_column,
    "add_column": _place_add_column,
    "set_type": _place_set_type,
    "set_not_null": _place_set_not_null,
    "attach": _place_attach,
    "add_constraint": _place_add_constraint,
    "validate": _place_validate,
    "drop_constraint": _place_drop_constraint,
    "create_index": _place_create_index,
    "drop_index": _place_drop_index,
}
