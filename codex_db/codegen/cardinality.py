"""Which ``:one`` queries always return exactly one row, read from sqlc's query text.

`one_row` recognises two shapes and returns None for anything else (then the
generated function returns ``Row | None``, which is always type-safe):

* ``INSERT INTO t [(columns)] [OVERRIDING ... VALUE] VALUES (one row) | DEFAULT VALUES
  [ON CONFLICT ... DO UPDATE SET ...] RETURNING ...``: no ``INSERT ... SELECT``, no
  multi-row VALUES, and no ``ON CONFLICT DO NOTHING`` or ``DO UPDATE ... WHERE`` (both
  may return no row). A BEFORE trigger returning NULL, or a rule, can still skip the
  row: the generated code raises then.
* ``SELECT items [FROM ...] [WHERE ...]``: every item an aggregate call (``count(...)``,
  ``sum(...)``..., with an optional ``FILTER (...)``, ``::type`` casts and alias) or a
  constant (a literal or a parameter), at least one aggregate; no GROUP BY, HAVING,
  ORDER BY, LIMIT, OFFSET, FETCH, WINDOW, OVER, DISTINCT, set operation or CTE.

Aggregates other than ``count`` are NULL over no rows, whatever sqlc says: their
indexes are in `OneRow.nullable`.
"""

from __future__ import annotations

import re

import msgspec

from codex_db.codegen.joins import Token, tokens, top_level

__all__ = ["AGGREGATES", "OneRow", "one_row"]

AGGREGATES = frozenset(
    {"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "bit_and", "bit_or",
     "bit_xor", "array_agg", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
     "string_agg", "range_agg", "range_intersect_agg", "any_value", "stddev", "stddev_pop",
     "stddev_samp", "variance", "var_pop", "var_samp"}
)  # fmt: skip
"""Built-in aggregates that return one row without GROUP BY; only ``count`` is never NULL."""

# Top-level words that may change how many rows a SELECT returns (or that we do not read).
_SELECT_STOP = frozenset(
    {"group", "having", "order", "limit", "offset", "fetch", "window", "over", "within",
     "union", "intersect", "except", "for", "into"}
)  # fmt: skip
_ALIAS_STOP = _SELECT_STOP | {"from", "where", "filter", "as"}
_NEVER_NULL = frozenset({"count", "constant"})  # constants keep sqlc's nullability
_CONSTANT_WORDS = frozenset({"true", "false", "null"})
_LITERAL = re.compile(r"(?:[EeBbXx]|[Uu]&)?'|\$|\.?\d")


class OneRow(msgspec.Struct, frozen=True):
    """Proof that a query returns exactly one row.

    *kind* is ``"insert"`` or ``"aggregate"``. For an aggregate SELECT, *width* is the
    number of select items and *nullable* the indexes of those that may be NULL
    although sqlc reports them NOT NULL.
    """

    kind: str
    width: int = 0
    nullable: frozenset[int] = frozenset()


def one_row(text: str) -> OneRow | None:
    """How *text* is known to return exactly one row, or None when that is not proven."""
    found = tokens(text)
    if found and found[-1] == ("o", ";"):
        found.pop()
    if not found or ("o", ";") in found or top_level(found) is None:
        return None
    if found[0] == ("w", "insert"):
        return OneRow("insert") if _Reader(found).insert() else None
    if found[0] == ("w", "select"):
        items = _Reader(found).aggregate_select()
        if items is None:
            return None
        nullable = frozenset(i for i, kind in enumerate(items) if kind not in _NEVER_NULL)
        return OneRow("aggregate", len(items), nullable)
    return None


class _Reader:
    """A cursor over the tokens of one statement (brackets are known to balance)."""

    def __init__(self, found: list[Token]) -> None:
        self.tokens = found
        self.pos = 1

    def peek(self) -> Token:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")

    def word(self) -> str:
        token = self.peek()
        return token[1] if token[0] == "w" else ""

    def at(self, text: str) -> bool:
        return self.peek() == ("o", text)

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def skip_group(self) -> None:
        """Skip the bracketed group starting at the cursor (a ``(`` or ``[``)."""
        depth = 0
        while not self.at_end():
            token = self.peek()
            self.pos += 1
            if token[0] == "o" and token[1] in ("(", "["):
                depth += 1
            elif token[0] == "o" and token[1] in (")", "]"):
                depth -= 1
                if depth == 0:
                    return

    def top_level_words(self) -> list[str]:
        """The depth-0 words from the cursor to the end; moves the cursor to the end."""
        words: list[str] = []
        while not self.at_end():
            if self.at("(") or self.at("["):
                self.skip_group()
                continue
            if self.word():
                words.append(self.word())
            self.pos += 1
        return words

    # INSERT

    def insert(self) -> bool:
        """``INSERT INTO`` target ``VALUES (one row)``/``DEFAULT VALUES`` [upsert] RETURNING."""
        if self.word() != "into":
            return False
        self.pos += 1
        groups = 0
        while True:  # the target, its alias and column list, OVERRIDING ... VALUE
            if self.at_end():
                return False
            token = self.peek()
            if token == ("w", "values"):
                self.pos += 1
                if not self.at("("):
                    return False
                self.skip_group()
                if self.at(","):
                    return False  # several rows
                break
            if token == ("w", "default"):
                self.pos += 1
                if self.word() != "values":
                    return False
                self.pos += 1
                break
            if token == ("o", "(") and groups == 0:
                groups += 1
                self.skip_group()
                continue
            if token[0] == "q" or token == ("o", "."):
                self.pos += 1
                continue
            if token[0] != "w" or token[1] in ("select", "table", "with", "on", "returning"):
                return False
            self.pos += 1
        if self.word() == "on":
            self.pos += 1
            return self.upsert()
        return self.word() == "returning"

    def upsert(self) -> bool:
        """``CONFLICT [target] DO UPDATE SET ... RETURNING`` with no WHERE after DO UPDATE."""
        if self.word() != "conflict":
            return False
        words = self.top_level_words()
        if "do" not in words or "returning" not in words:
            return False
        action = words[words.index("do") :]
        if action[1:2] != ["update"]:
            return False
        return "where" not in action[: action.index("returning")]

    # SELECT

    def aggregate_select(self) -> list[str] | None:
        """The kind of each item (see `item`) of an aggregate-only SELECT; None if not one."""
        kinds: list[str] = []
        while True:
            kind = self.item()
            if kind is None:
                return None
            kinds.append(kind)
            if not self.at(","):
                break
            self.pos += 1
        if all(kind == "constant" for kind in kinds):
            return None
        if not self.at_end() and self.word() not in ("from", "where"):
            return None
        if set(self.top_level_words()) & _SELECT_STOP:
            return None
        return kinds

    def item(self) -> str | None:
        """Read one select item: the aggregate's name, ``"constant"``, or None for others."""
        token = self.peek()
        if token[0] == "w" and token[1] in AGGREGATES:
            kind = token[1]
            self.pos += 1
            if not self.at("("):
                return None
            self.skip_group()
            if self.word() == "filter":
                self.pos += 1
                if not self.at("("):
                    return None
                self.skip_group()
        elif (token[0] == "w" and token[1] in _CONSTANT_WORDS) or (
            token[0] == "o" and _LITERAL.match(token[1])
        ):
            kind = "constant"
            self.pos += 1
        else:
            return None
        while self.at("::"):
            self.pos += 1
            if not self.type_name():
                return None
        if self.word() == "as":
            self.pos += 1
            if not self.name():
                return None
        elif self.peek()[0] == "q" or (self.word() and self.word() not in _ALIAS_STOP):
            self.pos += 1
        if self.at_end() or self.at(",") or self.word() in ("from", "where"):
            return kind
        return None

    def name(self) -> bool:
        if self.peek()[0] in ("w", "q"):
            self.pos += 1
            return True
        return False

    def type_name(self) -> bool:
        """``[schema.]name [(modifiers)] [[]...]``; multi-word names end up as an alias."""
        if not self.name():
            return False
        if self.at("."):
            self.pos += 1
            if not self.name():
                return False
        if self.at("("):
            self.skip_group()
        while self.at("["):
            self.skip_group()
        return True
