"""Import blocks sorted the way ruff's isort rules (``I001``) expect."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

__all__ = ["Imports"]


def _natural(text: str) -> tuple[str | int, ...]:
    """Natural order, as ruff's isort uses: ``p2`` before ``p10``."""
    return tuple(int(p) if i % 2 else p for i, p in enumerate(re.split(r"(\d+)", text)))


def _name_key(name: str) -> tuple[int, tuple[str | int, ...], tuple[str | int, ...]]:
    """Constants, then classes, then the rest; case-insensitively within each (ruff's order)."""
    constant = name.isupper() and len(name) > 1
    kind = 0 if constant else 1 if name[:1].isupper() else 2
    return (kind, _natural(name.lower()), _natural(name))


class Imports:
    """Collects ``import m`` / ``from m import n`` and prints stdlib, third-party, first-party."""

    def __init__(self, first_party: Iterable[str]) -> None:
        self.first_party = frozenset(first_party)
        self.modules: set[str] = set()
        self.names: dict[str, set[str]] = {}

    def add(self, module: str, name: str = "") -> None:
        """Add ``import module`` (no *name*) or ``from module import name``."""
        if name:
            self.names.setdefault(module, set()).add(name)
        else:
            self.modules.add(module)

    def update(self, imports: Iterable[tuple[str, str]]) -> None:
        """Add several ``(module, name)`` pairs."""
        for module, name in imports:
            self.add(module, name)

    def render(self, width: int) -> list[str]:
        """The import block, sections separated by one blank line."""
        blocks = [self._section(kind, width) for kind in (0, 1, 2)]
        out: list[str] = []
        for block in blocks:
            if block:
                out += ([""] if out else []) + block
        return out

    def _kind(self, module: str) -> int:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names:
            return 0
        return 2 if top in self.first_party else 1

    def _section(self, kind: int, width: int) -> list[str]:
        straight = sorted((m for m in self.modules if self._kind(m) == kind), key=str.lower)
        froms = sorted((m for m in self.names if self._kind(m) == kind), key=str.lower)
        out = [f"import {m}" for m in straight]
        for module in froms:
            out += self._from(module, sorted(self.names[module], key=_name_key), width)
        return out

    @staticmethod
    def _from(module: str, names: list[str], width: int) -> list[str]:
        line = f"from {module} import {', '.join(names)}"
        if len(line) <= width:
            return [line]
        return [f"from {module} import ("] + [f"    {n}," for n in names] + [")"]
