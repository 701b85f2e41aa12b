"""Which tables of a query's top-level FROM clause may be missing (all NULL) in a row.

`from_items` reads sqlc's ``query.text`` just far enough to list the FROM clause's
tables with their qualifier (alias or name) and whether an outer join puts them on
the nullable side. It returns None whenever it is unsure (subqueries or functions in
FROM, LATERAL, parentheses, set operations, CTEs...), and callers then treat every
table as nullable, which is always type-safe.
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["FromItem", "Token", "from_items", "spans", "tokens", "top_level"]


class FromItem(msgspec.Struct, frozen=True):
    """A table in the FROM clause: ``schema`` is ``""`` when not written."""

    schema: str
    name: str
    qualifier: str
    nullable: bool


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
    | (?P<escaped>[Ee]'(?:[^'\\]|\\.|'')*')
    | (?P<string>(?:[BbXx]|[Uu]&)?'(?:[^']|'')*')
    | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$)
    | (?P<quoted>"(?:[^"]|"")*")
    | (?P<param>\$\d+)
    | (?P<word>[A-Za-z_][\w$]*)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
    | (?P<op>::|[(),.;\[\]*]|[^\s\w'"(),.;\[\]*]+)
    """,
    re.VERBOSE | re.DOTALL,
)

Token = tuple[str, str]
"""A word is ``("w", lowered)``, a quoted identifier ``("q", name)``, else ``("o", text)``."""

_END = frozenset(
    {"where", "group", "having", "window", "order", "limit", "offset", "fetch", "for",
     "returning", "union", "intersect", "except", "on", "using", "into"}
)  # fmt: skip
_JOIN_WORDS = frozenset({"join", "inner", "left", "right", "full", "cross", "natural", "outer"})
_NOT_ALIAS = _END | _JOIN_WORDS | {"tablesample", "lateral", "only", "as"}
_UNSURE = frozenset({"lateral", "tablesample", "rows", "with", "natural"})


def tokens(text: str) -> list[Token] | None:
    """The tokens of *text* without spaces and comments; None when it cannot be read."""
    found = spans(text)
    return None if found is None else [token for token, _, _ in found]


def spans(text: str) -> list[tuple[Token, int, int]] | None:
    """Each token of *text* (as `tokens`) with its start and end offsets in *text*."""
    out: list[tuple[Token, int, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            return None
        pos = match.end()
        kind = match.lastgroup
        value = match.group()
        if kind == "space":
            continue
        if kind == "word":
            token = ("w", value.lower())
        elif kind == "quoted":
            token = ("q", value[1:-1].replace('""', '"'))
        else:
            token = ("o", value)
        out.append((token, match.start(), pos))
    return out


def top_level(tokens: list[Token]) -> list[tuple[int, Token]] | None:
    """Depth-0 tokens with their index; None when brackets do not balance."""
    depth = 0
    out: list[tuple[int, Token]] = []
    for index, token in enumerate(tokens):
        if token[0] == "o" and token[1] in ("(", "["):
            depth += 1
            continue
        if token[0] == "o" and token[1] in (")", "]"):
            depth -= 1
            if depth < 0:
                return None
            continue
        if depth == 0:
            out.append((index, token))
    return out if depth == 0 else None


def from_items(text: str) -> list[FromItem] | None:
    """The tables of the top-level ``SELECT ... FROM`` clause, or None when unsure."""
    found = tokens(text)
    if not found or found[0] != ("w", "select"):
        return None
    top = top_level(found)
    if top is None:
        return None
    words = [t[1] for _, t in top if t[0] == "w"]
    if words.count("from") != 1 or {"union", "intersect", "except"} & set(words):
        return None
    start = next(i for i, (_, t) in enumerate(top) if t == ("w", "from"))
    return _Parser(found, top[start][0] + 1).parse()


class _Parser:
    """A recursive-descent reader of one FROM clause (no nested parentheses handled)."""

    def __init__(self, tokens: list[Token], pos: int) -> None:
        self.tokens = tokens
        self.pos = pos

    def peek(self, offset: int = 0) -> Token:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("o", ";")

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token[1] if token[0] == "w" else ""

    def at_end(self) -> bool:
        token = self.peek()
        return token == ("o", ";") or token == ("o", ")") or self.word() in _END - {"on", "using"}

    def parse(self) -> list[FromItem] | None:
        items: list[FromItem] = []
        group_start = 0
        first = self.table()
        if first is None:
            return None
        items.append(first)
        while not self.at_end():
            if self.peek() == ("o", ","):
                self.pos += 1
                group_start = len(items)
                item = self.table()
                if item is None:
                    return None
                items.append(item)
                continue
            kind = self.join_kind()
            if kind is None:
                return None
            item = self.table()
            if item is None or not self.skip_condition(kind):
                return None
            if kind in ("right", "full"):
                items[group_start:] = [
                    msgspec.structs.replace(i, nullable=True) for i in items[group_start:]
                ]
            if kind in ("left", "full"):
                item = msgspec.structs.replace(item, nullable=True)
            items.append(item)
        return items

    def join_kind(self) -> str | None:
        """Consume ``[INNER|CROSS|LEFT|RIGHT|FULL [OUTER]] JOIN``; None if it is not one."""
        word = self.word()
        if word in _UNSURE:
            return None
        kind = "inner"
        if word in ("inner", "cross"):
            kind = word
            self.pos += 1
        elif word in ("left", "right", "full"):
            kind = word
            self.pos += 1
            if self.word() == "outer":
                self.pos += 1
        if self.word() != "join":
            return None
        self.pos += 1
        return kind

    def skip_condition(self, kind: str) -> bool:
        """Skip ``ON expr`` or ``USING (...)``; CROSS JOIN has neither."""
        if kind == "cross":
            return True
        word = self.word()
        if word not in ("on", "using"):
            return False
        self.pos += 1
        depth = 0
        while True:
            token = self.peek()
            if token == ("o", ";"):
                return depth == 0
            if token[0] == "o" and token[1] in ("(", "["):
                depth += 1
            elif token[0] == "o" and token[1] in (")", "]"):
                if depth == 0:
                    return True
                depth -= 1
            elif depth == 0:
                if token == ("o", ","):
                    return True
                word = self.word()
                if word in _UNSURE:
                    return False
                if word in _END or word == "join" or word in ("inner", "cross", "full"):
                    return True
                if word in ("left", "right") and self.peek(1) != ("o", "("):
                    return True
            self.pos += 1

    def name(self) -> str | None:
        token = self.peek()
        if token[0] == "q" or (token[0] == "w" and token[1] not in _NOT_ALIAS):
            self.pos += 1
            return token[1]
        return None

    def table(self) -> FromItem | None:
        """``[ONLY] [schema.]name [*] [[AS] alias [(columns)]]``; None for anything else."""
        if self.word() == "only":
            self.pos += 1
        first = self.name()
        if first is None:
            return None
        schema, name = "", first
        if self.peek() == ("o", "."):
            self.pos += 1
            second = self.name()
            if second is None:
                return None
            schema, name = first, second
        if self.peek() == ("o", "("):
            return None  # a function call
        if self.peek() == ("o", "*"):
            self.pos += 1
        qualifier = name
        if self.word() == "as":
            self.pos += 1
            alias = self.name()
            if alias is None:
                return None
            qualifier = alias
        else:
            alias = self.name()
            if alias is not None:
                qualifier = alias
        if self.peek() == ("o", "("):
            return None  # column aliases: rare, and they hide the table's column names
        if self.word() in _UNSURE:
            return None
        return FromItem(schema, name, qualifier, nullable=False)
