"""The README's Python examples run, in order, against a migrated database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """Every ```python block of *path* with the line it starts on."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


def run_blocks(path: Path, namespace: dict[str, object]) -> None:
    """Execute the blocks of *path* top to bottom in one namespace, naming the failing line."""
    for line, code in python_blocks(path):
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        exec(compiled, namespace)  # noqa: S102 - the README's examples are the code under test


def test_readme_has_examples() -> None:
    """The README shows Python examples (an empty list would make the next test vacuous)."""
    assert len(python_blocks(README)) >= 1


def test_readme_examples_run(
    migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of the README runs against a fresh migrated database."""
    monkeypatch.setenv("DATABASE_URL", migrated_database())
    monkeypatch.delenv("DB_METHOD", raising=False)
    run_blocks(README, {"__name__": "readme"})
