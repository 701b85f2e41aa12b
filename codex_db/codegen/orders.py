"""Whitelisted dynamic ORDER BY: ``-- order:`` annotations to one SQL text per sort order.

A ``:one`` or ``:many`` query lists its allowed orders in comment lines, and writes one
of them (the default) as its own top-level ``ORDER BY``, which sqlc checks::

    -- name: ListContent :many
    -- order: newest = published_at DESC NULLS LAST, id DESC
    -- order: title = title, id
    SELECT * FROM content ORDER BY published_at DESC NULLS LAST, id DESC LIMIT @max_rows;

The generator emits a StrEnum of the keys, one constant per order (the default's is the
query's usual constant, sqlc's text; each other one is that text with its ORDER BY
clause replaced, ``LIST_CONTENT_TITLE``) and a mapping from member to constant; the function
takes ``order: ListContentOrder = ListContentOrder.NEWEST`` and looks the text up, so
no caller string ever reaches SQL (an unknown value raises ValueError). Use it when a
list screen offers fixed sort choices; keyset pagination needs one query per order.
"""

from __future__ import annotations

import re

import msgspec

from codex_db.codegen import joins, naming
from codex_db.codegen.errors import CodegenError

__all__ = ["OrderDef", "Orders", "plan_orders", "split_comments"]

_DIRECTIVE = re.compile(r"^\s*order\s*:\s*(?P<key>[^=]*?)\s*=\s*(?P<sql>.*?)\s*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_AFTER_ORDER = frozenset({"limit", "offset", "fetch", "for"})
_FORBIDDEN = re.compile(r"\$|@|;|--|/\*|\bsqlc\s*\.", re.I)


class OrderDef(msgspec.Struct, frozen=True):
    """One allowed order: its enum member, its constant and the query text it gives."""

    key: str
    member: str
    const: str
    sql: str


class Orders(msgspec.Struct, frozen=True):
    """The orders of one query: its enum class, mapping constant and default member."""

    enum_class: str
    mapping_const: str
    default: str
    orders: list[OrderDef]


def split_comments(comments: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The query's comments without ``order:`` lines, and those lines' ``(key, clause)``."""
    kept: list[str] = []
    found: list[tuple[str, str]] = []
    for comment in comments:
        match = _DIRECTIVE.match(comment)
        if match is None:
            kept.append(comment)
        else:
            found.append((match["key"], match["sql"]))
    return kept, found


def plan_orders(
    where: str, name: str, cmd: str, text: str, found: list[tuple[str, str]]
) -> Orders | None:
    """The orders of query *name* (``file: Query`` in *where*), or None when it has none.

    *text* is sqlc's query text; each order's SQL is it with the top-level ORDER BY
    clause replaced, under the same ``-- name:`` line.

    Raises:
        CodegenError: a bad key or clause, a duplicate, no ORDER BY to replace, or a
            query ORDER BY that is none of the orders.
    """
    if not found:
        return None
    if cmd not in (":one", ":many"):
        raise CodegenError(f"{where}: '-- order:' lines need a :one or :many query, not {cmd}")
    start, end = _clause(where, text)
    span = text[start:end]
    written = _normal(span)
    lead = span[: len(span) - len(span.lstrip())]
    trail = span[len(span.rstrip()) :]
    head = f"-- name: {name} {cmd}\n"
    orders: list[OrderDef] = []
    default = ""
    for key, clause in found:
        _check(where, key, clause, [o.key for o in orders])
        member = naming.enum_member(key)
        if _normal(clause) == written and not default:
            default = member  # the query's own constant: sqlc's text, byte for byte
            orders.append(OrderDef(key, member, naming.constant_name(name), head + text + "\n"))
            continue
        const = f"{naming.constant_name(name)}_{member.rstrip('_')}"
        sql = f"{head}{text[:start]}{lead}{clause}{trail}{text[end:]}\n"
        orders.append(OrderDef(key, member, const, sql))
    if not default:
        raise CodegenError(
            f"{where}: the query's ORDER BY {text[start:end].strip()!r} is none of its"
            " '-- order:' clauses; write the default order's clause there (sqlc checks it)"
        )
    base = naming.pascal_name(name)
    return Orders(base + "Order", naming.constant_name(name) + "_ORDERS", default, orders)


def _clause(where: str, text: str) -> tuple[int, int]:
    """Offsets of the top-level ORDER BY clause's expressions (after ``BY``) in *text*."""
    found = joins.spans(text)
    if found is None:
        raise CodegenError(f"{where}: cannot read the query to find its ORDER BY")
    depth = 0
    start: int | None = None
    for index, ((kind, value), begin, _) in enumerate(found):
        if kind == "o" and value in ("(", "["):
            depth += 1
        elif kind == "o" and value in (")", "]"):
            depth -= 1
        elif depth or kind != "w":
            continue
        elif value in ("union", "intersect", "except"):
            raise CodegenError(f"{where}: '-- order:' lines cannot order a set operation")
        elif start is None and value == "order" and _word_at(found, index + 1) == "by":
            start = found[index + 1][2]
        elif start is not None and value in _AFTER_ORDER:
            return start, begin
    if start is None:
        raise CodegenError(
            f"{where}: '-- order:' lines need a top-level ORDER BY in the query to replace"
        )
    return start, len(text)


def _word_at(found: list[tuple[joins.Token, int, int]], index: int) -> str:
    return found[index][0][1] if index < len(found) and found[index][0][0] == "w" else ""


def _check(where: str, key: str, clause: str, seen: list[str]) -> None:
    if not _KEY.match(key):
        raise CodegenError(
            f"{where}: order key {key!r} must be lower_snake_case, e.g. '-- order: newest = ...'"
        )
    if key in seen:
        raise CodegenError(f"{where}: order {key!r} is listed twice")
    found = joins.tokens(clause) if clause and not _FORBIDDEN.search(clause) else None
    if found is None:
        raise CodegenError(
            f"{where}: order {key!r}: the clause must be plain ORDER BY expressions"
            " (no parameters, comments or ';'), e.g. 'published_at DESC, id DESC'"
        )
    if joins.top_level(found) is None:
        raise CodegenError(f"{where}: order {key!r}: unbalanced brackets in {clause!r}")


def _normal(sql: str) -> str:
    return " ".join(sql.split()).lower()
