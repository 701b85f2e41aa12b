"""Line layout that ``ruff format`` leaves alone: one line if it fits, else exploded.

Exploded brackets always end with a magic trailing comma, so the output is stable
for any configured line length at least as large as the one used here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "Group",
    "docstring",
    "escape_unsafe",
    "file_noqa",
    "lines",
    "secret_noqa",
    "string",
    "string_literal",
]

_SECRET_NAME = re.compile(r"(^|_)(pas+wo?r?d|pass(phrase)?|pwd|token|secrete?)($|_)", re.IGNORECASE)


class Group:
    """A bracketed, comma-separated list: a call, a tuple or a parameter list."""

    def __init__(
        self, head: str, items: list[str | Group], tail: str, *, one_tuple: bool = False
    ) -> None:
        self.head = head
        self.items = items
        self.tail = tail
        self.one_tuple = one_tuple

    def flat(self) -> str:
        """The group on one line."""
        inner = ", ".join(item.flat() if isinstance(item, Group) else item for item in self.items)
        if self.one_tuple and len(self.items) == 1:
            inner += ","
        return self.head + inner + self.tail

    def render(self, indent: str, suffix: str, width: int) -> list[str]:
        """Lines for this group at *indent*, followed by *suffix* (``","``, ``":"``...)."""
        line = indent + self.flat() + suffix
        if len(line) <= width or not self.items:
            return [line]
        out = [indent + self.head]
        for item in self.items:
            out += lines(item, indent + "    ", ",", width)
        out.append(indent + self.tail + suffix)
        return out


def lines(item: str | Group, indent: str, suffix: str, width: int) -> list[str]:
    """Render a group or a plain expression."""
    if isinstance(item, Group):
        return item.render(indent, suffix, width)
    return [indent + item + suffix]


def string_literal(text: str) -> str:
    """A triple-quoted literal whose value is exactly *text*.

    Tabs, other control characters and non-ASCII symbols are written as escapes, so
    that ruff finds no tab (W191, E101) and no ambiguous character (RUF001).
    """
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return f'"""{escape_unsafe(escaped, keep=chr(10))}"""'


def string(value: str) -> str:
    """A one-line literal whose value is exactly *value* (escaped as `string_literal`).

    Double-quoted unless single quotes need fewer escapes, as ``ruff format`` prints it.
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + escape_unsafe(escaped) + quote


def escape_unsafe(text: str, keep: str = "") -> str:
    """*text* with control characters and non-ASCII symbols or spaces as escapes.

    Non-ASCII letters, digits and marks stay: ruff flags a confusable letter only
    inside an otherwise ASCII word. Call it on text already escaped for its quotes.
    """
    return "".join(c if c in keep or _is_safe(c) else _escape(c) for c in text)


def _is_safe(char: str) -> bool:
    if char.isascii():
        return char.isprintable()
    return unicodedata.category(char)[0] in "LNM"


def _escape(char: str) -> str:
    named = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}
    if char in named:
        return named[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def docstring(doc: list[str], indent: str) -> list[str]:
    """Docstring lines the way ``ruff format`` prints them; empty when there is no doc."""
    if not doc:
        return []
    text = [
        escape_unsafe(line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').replace("\t", "    "))
        for line in doc
    ]
    if len(text) == 1:
        single = text[0].strip()
        return [f'{indent}"""{single}{" " if single.endswith(chr(34)) else ""}"""']
    out = [f'{indent}"""{text[0].strip()}']
    out += [f"{indent}{line}" if line.strip() else "" for line in _dedent(text[1:])]
    out.append(f'{indent}"""')
    return out


def _dedent(text: list[str]) -> list[str]:
    margins = [len(line) - len(line.lstrip()) for line in text if line.strip()]
    margin = min(margins, default=0)
    return [line[margin:].rstrip() for line in text]


def secret_noqa(name: str) -> str:
    """``  # noqa: S105`` when ruff would take constant *name* for a hard-coded password."""
    return "  # noqa: S105" if _SECRET_NAME.search(name) else ""


def file_noqa(body: list[str], width: int, extra: Iterable[str] = ()) -> str:
    """A ``# ruff: noqa:`` line for what verbatim SQL and comments may break, or ``""``.

    *extra* adds codes the caller knows apply (PT028 for a ``test...`` function).
    """
    codes = set(extra)
    for line in body:
        if len(line) > width and len(line.strip().split()) > 1:
            codes.add("E501")
        if line != line.rstrip():
            codes.add("W293" if not line.strip() else "W291")
    return f"# ruff: noqa: {', '.join(sorted(codes))}" if codes else ""
