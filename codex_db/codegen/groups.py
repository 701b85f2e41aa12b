"""One-to-many results: a ``-- group:`` annotation folds joined rows into one Row per parent.

A ``:many`` query that embeds its parent and LEFT JOINs its child names the child's
embed (by its alias or table name) in a comment line::

    -- name: ListCreatorsWithMedia :many
    -- group: media = m
    SELECT sqlc.embed(u), sqlc.embed(m)
    FROM users u LEFT JOIN media_items m ON m.creator_id = u.id
    WHERE u.id = ANY(@ids::text[]);

The Row Struct then holds ``media: list[models.MediaItem]`` instead of one
``MediaItem | None``, and its ``from_rows`` classmethod builds the Rows in one pass
over the joined rows: one per parent key, in the order parents first appear (so the
rows need not arrive clustered), each child appended in row order, and the empty side
of the LEFT JOIN (the child's NOT NULL key is NULL) leaving an empty list. Every other
result column belongs to the parent and is taken from its first row.

sqlc does not tell a plugin which columns are a table's primary key, so the parent key
is the parent's column ``id`` unless ``by`` names it (``-- group: media = m by org_id,
slug``); it must be NOT NULL and on the side of the join present in every row.
"""

from __future__ import annotations

import re

import msgspec

from codex_db.codegen import naming
from codex_db.codegen.errors import CodegenError
from codex_db.codegen.pgtypes import PyType
from codex_db.codegen.plan import Field, Group, ModelDef, Part, RowDef
from codex_db.codegen.resolver import MODELS_PREFIX

__all__ = ["Embed", "GroupLine", "parse_lines", "plan_group", "split_comments"]

_DIRECTIVE = re.compile(r"^\s*group\s*:(?P<body>.*)$", re.I)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_BODY = re.compile(
    rf"^\s*(?P<field>{_NAME})\s*=\s*(?P<child>{_NAME})"
    rf"(?:\s+by\s+(?P<key>{_NAME}(?:\s*,\s*{_NAME})*))?\s*$",
    re.I,
)
_FORM = (
    "'-- group: <field> = <embed alias> [by <parent key column>, ...]', e.g. '-- group: media = m'"
)


class GroupLine(msgspec.Struct, frozen=True):
    """A parsed ``-- group:`` line: the list field, the child's qualifier, the key names."""

    field: str
    child: str
    key: list[str]
    text: str


class Embed(msgspec.Struct, frozen=True):
    """A ``sqlc.embed()`` of the select list: its field, model, cells and outer-join side.

    *qualifiers* are the names a ``-- group:`` line may call it by: its alias (when sqlc's
    expansion shows one) and its table name.
    """

    field: int
    model: ModelDef
    start: int
    stop: int
    nullable: bool
    qualifiers: frozenset[str]


class _Plain(msgspec.Struct, frozen=True):
    """A result column that is not an embed: its field, cell and nullability."""

    field: int
    cell: int
    name: str
    not_null: bool


def split_comments(comments: list[str]) -> tuple[list[str], list[str]]:
    """The comments without ``group:`` lines, and those lines' text after ``group:``."""
    kept: list[str] = []
    found: list[str] = []
    for comment in comments:
        match = _DIRECTIVE.match(comment)
        if match is None:
            kept.append(comment)
        else:
            found.append(match["body"].strip())
    return kept, found


def parse_lines(where: str, cmd: str, found: list[str]) -> GroupLine | None:
    """The query's one ``-- group:`` line, parsed; None when it has none.

    Raises:
        CodegenError: not a ``:many`` query, several lines, or a malformed one.
    """
    if not found:
        return None
    if cmd != ":many":
        raise CodegenError(
            f"{where}: '-- group:' needs a :many query (it folds many rows into one per"
            f" parent), not {cmd}"
        )
    if len(found) > 1:
        raise CodegenError(
            f"{where}: one '-- group:' line per query: two one-to-many joins multiply each"
            " other's rows; write one query per child list"
        )
    match = _BODY.match(found[0])
    if match is None:
        raise CodegenError(f"{where}: '-- group: {found[0]}' must read {_FORM}")
    field = match["field"]
    if naming.identifier(field) != field or field != field.lower():
        raise CodegenError(
            f"{where}: '-- group: {found[0]}': the field {field!r} must be a lower_snake_case"
            " name that is not a keyword or a name generated code uses, e.g. 'media'"
        )
    key = [k.strip().lower() for k in match["key"].split(",")] if match["key"] else ["id"]
    return GroupLine(field, match["child"].lower(), key, found[0])


def plan_group(
    where: str,
    line: GroupLine,
    row: RowDef,
    embeds: list[Embed],
    plain: list[tuple[int, int, str, bool]],
) -> RowDef:
    """*row* (a query's embed Row) with the embed *line* names turned into a child list.

    *plain* lists the other result columns as ``(field, cell, name, not_null)``.

    Raises:
        CodegenError: no such embed, no parent column left, no usable parent key, a child
            whose absence cannot be told, or a field name already taken.
    """
    child = _child(where, line, embeds)
    parents = [e for e in embeds if e is not child]
    columns = [_Plain(*p) for p in plain]
    if not parents and not columns:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': the select list has only the child; add the"
            " parent, e.g. 'SELECT sqlc.embed(o), sqlc.embed(c) FROM o LEFT JOIN c ...'"
        )
    names = [f.name for i, f in enumerate(row.fields) if i != child.field]
    if line.field in names:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': the field {line.field!r} is also a parent"
            " field; choose another name"
        )
    key = [_key_cell(where, line, name, parents, columns) for name in line.key]
    present = _present_cell(where, line, child) if child.nullable else -1
    model = child.model.row
    ref = MODELS_PREFIX + model.class_name
    group = Group(
        child.field,
        key,
        child.start,
        child.stop,
        ref + (".from_row" if model.needs_builder else ""),
        present,
    )
    fields = list(row.fields)
    fields[child.field] = Field(line.field, PyType(f"list[{ref}]"))
    parts = list(row.parts)
    parts[child.field] = Part(child.start, child.stop)
    return RowDef(row.class_name, fields, parts, row.comment, gc=True, group=group)


def _child(where: str, line: GroupLine, embeds: list[Embed]) -> Embed:
    found = [e for e in embeds if line.child in e.qualifiers]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        aliases = ", ".join(sorted({q for e in found for q in e.qualifiers} - {line.child}))
        raise CodegenError(
            f"{where}: '-- group: {line.text}': {line.child!r} names several embeds"
            f" ({aliases or 'without aliases'}); alias the child's table, embed it by"
            " that alias and name the alias"
        )
    known = ", ".join(sorted({q for e in embeds for q in e.qualifiers})) or "none"
    raise CodegenError(
        f"{where}: '-- group: {line.text}': no sqlc.embed({line.child}) in the select list"
        f" (embeds: {known}); embed the child with sqlc.embed(alias) and name that alias"
    )


def _key_cell(
    where: str, line: GroupLine, name: str, parents: list[Embed], columns: list[_Plain]
) -> int:
    """The cell of the parent key column *name*: a plain column, or a parent embed's."""
    plain = [c for c in columns if c.name == name]
    in_embeds = [(e, i) for e in parents for i, c in enumerate(e.model.columns) if c.name == name]
    if len(plain) + len(in_embeds) > 1:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': the parent key column {name!r} is in several"
            " parent columns or embeds; select it once"
        )
    if plain:
        cell, not_null = plain[0].cell, plain[0].not_null
    elif in_embeds:
        embed, index = in_embeds[0]
        cell, not_null = embed.start + index, embed.model.columns[index].not_null
        not_null = not_null and not embed.nullable
    else:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': no parent key: no parent column named {name!r};"
            f" name the parent's primary key, e.g. '-- group: {line.field} = {line.child}"
            " by <column>'"
        )
    if not not_null:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': the parent key column {name!r} may be NULL;"
            " use the parent's primary key, and put the parent in FROM with the child"
            " LEFT JOINed to it"
        )
    return cell


def _present_cell(where: str, line: GroupLine, child: Embed) -> int:
    """A child cell that is NULL exactly on the LEFT JOIN's empty side: a NOT NULL column."""
    columns = child.model.columns
    candidates = [i for i, c in enumerate(columns) if c.not_null]
    if not candidates:
        raise CodegenError(
            f"{where}: '-- group: {line.text}': the child table {child.model.key[1]} has no"
            " NOT NULL column, so a missing child cannot be told from a row of NULLs;"
            " give it a primary key"
        )
    by_id = [i for i in candidates if columns[i].name == "id"]
    return child.start + (by_id or candidates)[0]
