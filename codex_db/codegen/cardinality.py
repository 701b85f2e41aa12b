"""Which ``:one`` queries always return exactly one row, read from sqlc's query text.

`one_row` recognises three shapes and returns None for anything else (then the
generated function returns ``Row | None``, which is always type-safe):

* ``INSERT INTO t [(columns)] [OVERRIDING ... VALUE] VALUES (one row) | DEFAULT VALUES
  [ON CONFLICT ... DO UPDATE SET ...] RETURNING ...``: no ``INSERT ... SELECT``, no
  multi-row VALUES, and no ``ON CONFLICT DO NOTHING`` or ``DO UPDATE ... WHERE`` (both
  may return no row). A BEFORE trigger returning NULL, or a rule, can still skip the
  row: the generated code raises then.
* ``SELECT items [FROM ...] [WHERE ...]``: every item an aggregate call (``count(...)``,
  ``sum(...)``..., with an optional ``FILTER (...)``, ``::type`` casts and alias) or a
  constant (a literal or a parameter), at least one aggregate; no GROUP BY, HAVING,
  ORDER BY, LIMIT, OFFSET, FETCH, WINDOW, OVER, DISTINCT, set operation or CTE. An
  item may also be an expression: operands joined by operators, where an operand is
  an aggregate, a constant, ``EXISTS (...)``, a scalar subquery or a call of a
  built-in scalar function such as ``coalesce`` (`_SCALAR_FUNCTIONS`, whose direct
  aggregate arguments count: ``coalesce(sum(x), 0)``).
* ``SELECT items`` with no FROM, no WHERE and nothing after: items of constants,
  scalar functions, ``EXISTS (...)`` and scalar subqueries (``SELECT 1``,
  ``SELECT $1::int + 1``, ``SELECT EXISTS (SELECT ...)``, ``SELECT now()``). A
  function we do not know might return a set, so it is never assumed.

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
_CONSTANT_WORDS = frozenset(
    {"true", "false", "null", "current_date", "current_time", "current_timestamp", "localtime",
     "localtimestamp", "current_user", "session_user", "current_role", "current_catalog",
     "current_schema"}
)  # fmt: skip
# Built-in functions that return one value per call (never a set), so that a SELECT of
# them without FROM is one row; sqlc's nullability is kept, except for _NULLABLE_FUNCTIONS.
_SCALAR_FUNCTIONS = frozenset(
    {"coalesce", "nullif", "greatest", "least", "now", "clock_timestamp", "statement_timestamp",
     "transaction_timestamp", "gen_random_uuid", "uuidv4", "uuidv7", "random", "nextval",
     "currval", "setval", "lastval", "pg_backend_pid", "pg_current_xact_id", "txid_current",
     "version", "current_setting", "set_config", "pg_try_advisory_lock",
     "pg_try_advisory_xact_lock", "pg_advisory_unlock", "pg_advisory_lock",
     "pg_advisory_xact_lock", "pg_advisory_unlock_all", "pg_notify", "lower", "upper", "length",
     "concat", "concat_ws", "format", "md5", "abs", "round", "date_trunc", "make_interval",
     "to_json", "to_jsonb", "jsonb_build_object", "jsonb_build_array", "json_build_object",
     "json_build_array", "cardinality", "array_length"}
)  # fmt: skip
_NULLABLE_FUNCTIONS = frozenset({"nullif", "current_setting", "array_length", "currval"})
_WORD_OPERATORS = frozenset({"and", "or", "is", "like", "ilike"})
_NOT_OPERATORS = frozenset({",", "(", ")", "[", "]", ";", ".", "::"})
_LITERAL = re.compile(r"(?:[EeBbXx]|[Uu]&)?'|\$|\.?\d")


def _combine(kinds: list[str]) -> str:
    """The kind of an item made of operands of *kinds*.

    ``count`` (alone) is never NULL; ``constant`` keeps sqlc's nullability, and so does
    an expression of constants and ``count``; anything else may be NULL.
    """
    if len(kinds) == 1:
        return kinds[0]
    return "constant" if set(kinds) <= _NEVER_NULL else "nullable"


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
        reader = _Reader(found)
        items = reader.aggregate_select()
        if items is None:
            return None
        nullable = frozenset(i for i, kind in enumerate(items) if kind not in _NEVER_NULL)
        return OneRow("aggregate" if reader.aggregates else "constant", len(items), nullable)
    return None


class _Reader:
    """A cursor over the tokens of one statement (brackets are known to balance)."""

    def __init__(self, found: list[Token]) -> None:
        self.tokens = found
        self.pos = 1
        self.aggregates = False

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
        """The kind of each item (see `item`) of a one-row SELECT; None if not one.

        Without FROM and WHERE any items of constants qualify; with them, at least
        one item must hold an aggregate.
        """
        kinds: list[str] = []
        while True:
            kind = self.item()
            if kind is None:
                return None
            kinds.append(kind)
            if not self.at(","):
                break
            self.pos += 1
        if self.at_end():
            return kinds
        if not self.aggregates or self.word() not in ("from", "where"):
            return None
        if set(self.top_level_words()) & _SELECT_STOP:
            return None
        return kinds

    def item(self) -> str | None:
        """Read one select item: its kind (`_combine`), or None for items we do not read.

        An item is operands joined by operators: aggregate calls (with FILTER),
        constants (literals, parameters, ``current_date``...), ``EXISTS (...)``,
        scalar subqueries ``(SELECT ...)`` and calls of `_SCALAR_FUNCTIONS`, each
        with ``::type`` casts; then an optional alias.
        """
        kinds: list[str] = []
        while True:
            while self.word() == "not" or self.at_operator():
                self.pos += 1  # a prefix operator
            kind = self.operand()
            if kind is None:
                return None
            kinds.append(kind)
            while self.at("::"):
                self.pos += 1
                if not self.type_name():
                    return None
            if not self.infix():
                break
        if self.word() == "as":
            self.pos += 1
            if not self.name():
                return None
        elif self.peek()[0] == "q" or (self.word() and self.word() not in _ALIAS_STOP):
            self.pos += 1
        if self.at_end() or self.at(",") or self.word() in ("from", "where"):
            return _combine(kinds)
        return None

    def operand(self) -> str | None:
        """Read one operand; its kind: an aggregate's name, or see `_combine`."""
        token = self.peek()
        word = self.word()
        if word in AGGREGATES and self.after_is("("):
            self.pos += 1
            self.skip_group()
            if self.word() == "filter":
                self.pos += 1
                if not self.at("("):
                    return None
                self.skip_group()
            self.aggregates = True
            return word
        if word == "exists" and self.after_is("("):
            self.pos += 1
            self.skip_group()
            return "constant"
        if word in _SCALAR_FUNCTIONS and self.after_is("("):
            self.pos += 1
            self.aggregates |= self.call_has_aggregate()
            self.skip_group()
            return "nullable" if word in _NULLABLE_FUNCTIONS else "constant"
        if self.at("(") and self.after_is("select", kind="w"):
            self.skip_group()
            return "nullable"  # a scalar subquery is NULL when it finds no row
        if word in _CONSTANT_WORDS or (token[0] == "o" and _LITERAL.match(token[1])):
            self.pos += 1
            return "constant"
        return None

    def after_is(self, text: str, kind: str = "o") -> bool:
        """True when the token after the cursor is *text*."""
        following = self.pos + 1
        return following < len(self.tokens) and self.tokens[following] == (kind, text)

    def call_has_aggregate(self) -> bool:
        """True when the call at the cursor has an aggregate call as a direct argument."""
        depth = 0
        for index in range(self.pos, len(self.tokens)):
            kind, text = self.tokens[index]
            if kind == "o" and text in ("(", "["):
                depth += 1
            elif kind == "o" and text in (")", "]"):
                depth -= 1
                if depth == 0:
                    return False
            elif depth == 1 and kind == "w" and text in AGGREGATES:
                following = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
                if following == ("o", "("):
                    return True
        return False

    def at_operator(self) -> bool:
        token = self.peek()
        return token[0] == "o" and token[1] not in _NOT_OPERATORS and not _LITERAL.match(token[1])

    def infix(self) -> bool:
        """Skip a binary operator (``+``, ``||``, ``AND``, ``IS [NOT]``...); False if none."""
        if self.at_operator():
            self.pos += 1
            return True
        if self.word() in _WORD_OPERATORS:
            if self.word() == "is":
                self.pos += 1
                if self.word() == "not":
                    self.pos += 1
                return True
            self.pos += 1
            return True
        return False

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
