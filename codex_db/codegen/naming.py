"""Python names from SQL names: ``GetUser`` → ``get_user`` / ``GET_USER`` / ``GetUserRow``."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

__all__ = [
    "RESERVED",
    "class_name",
    "constant_name",
    "dedupe",
    "enum_member",
    "identifier",
    "pascal_name",
    "singular",
    "snake_name",
]

_WORDS = re.compile(r"[A-Z]+s(?![a-z])|[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_INVALID = re.compile(r"[^0-9A-Za-z_]+")
_AMBIGUOUS = frozenset({"l", "O", "I"})

RESERVED = frozenset(
    {
        # builtins used as annotations in generated code
        "str", "int", "float", "bool", "bytes", "list", "dict", "object", "type", "tuple",
        # names the generated modules import or use in bodies
        "date", "time", "datetime", "timedelta", "Decimal", "UUID", "Any", "Final",
        "Range", "Multirange", "Inet", "Cidr", "Json", "Jsonb", "Iterable", "Iterator",
        "AsyncIterator", "Generator", "AsyncGenerator", "DBTX", "AsyncDBTX", "ExecResult",
        "embed", "scalar", "msgspec", "models", "enum", "conn", "params", "rows", "cells",
        "self", "cls", "from_row", "copy_row", "Self", "LiteralString", "EnumInfo",
        # ambiguous names ruff rejects (E741)
        "l", "O", "I",
    }
)  # fmt: skip


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORDS.findall(name)]


def snake_name(name: str) -> str:
    """``GetUserByIDs`` → ``get_user_by_ids``; ``get_user`` stays."""
    return "_".join(_words(name)) or "column"


def constant_name(name: str) -> str:
    """``GetUser`` → ``GET_USER``."""
    return snake_name(name).upper()


def pascal_name(name: str) -> str:
    """``billing_invoice`` → ``BillingInvoice``; ``GetUser`` and ``ListByIDs`` stay."""
    if _PASCAL.match(name):
        return name
    return "".join(word.capitalize() for word in _words(name)) or "Column"


def identifier(name: str) -> str:
    """A safe Python field or argument name: invalid characters become ``_``.

    Keywords, builtin type names and the names generated code itself uses get a
    trailing ``_`` (``class`` → ``class_``); ``id`` stays ``id``.
    """
    if any(c.isupper() for c in name):
        name = snake_name(name)
    cleaned = _INVALID.sub("_", name).strip("_") or "column"
    if cleaned[0].isdigit():
        cleaned = f"c_{cleaned}"
    if keyword.iskeyword(cleaned) or keyword.issoftkeyword(cleaned) or cleaned in RESERVED:
        cleaned += "_"
    return cleaned


def enum_member(value: str) -> str:
    """``read-only`` → ``READ_ONLY``; ``24h`` → ``VALUE_24H``; ``""`` → ``EMPTY``; ``o`` → ``O_``.

    ``O`` and ``I`` get a trailing ``_``: ruff rejects them as ambiguous (E741).
    """
    cleaned = _INVALID.sub("_", value).strip("_").upper()
    if not cleaned:
        return "EMPTY"
    if cleaned in _AMBIGUOUS:
        return cleaned + "_"
    return f"VALUE_{cleaned}" if cleaned[0].isdigit() else cleaned


def class_name(name: str, suffix: str) -> str:
    """*name* (already PascalCase), or *name* + *suffix* when it would clash or mislead.

    That is for the ambiguous ``O`` and ``I`` (ruff's E742; ``O_`` is not CapWords,
    N801) and for names generated code imports (a table ``decimals`` would shadow
    ``Decimal``): ``DecimalRow``, ``RangeEnum``.
    """
    return name + suffix if name in _AMBIGUOUS or name in RESERVED else name


def dedupe(names: Iterable[str]) -> list[str]:
    """Suffix repeated names: ``id, id`` → ``id, id_2``."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name.rstrip('_')}_{n}"
        seen.add(candidate)
        result.append(candidate)
    return result


def singular(name: str) -> str:
    """English singular of a table name: ``users`` → ``user``, ``categories`` → ``category``."""
    lower = name.lower()
    if lower.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes", "zzes", "uses")):
        return name[:-2]
    if lower.endswith(("ss", "us", "is")) or not lower.endswith("s"):
        return name
    return name[:-1]
