"""The README's Python examples run, in order, against a migrated database.

The README is the user guide: every ```python block in it is executed top to
bottom in one namespace, so an example that stops working fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import codex_db

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

SECTIONS = [
    "## Quick start",
    "## Usage examples",
    "## Configuration",
    "## Database clients",
    "## Error handling",
    "## Database triggers",
    "## Authentication",
    "## Async",
    "## Running behind a pooler (Neon)",
    "## Retries and timeouts",
    "## Migrations",
    "## Code generation",
    "## Studio",
    "## Testing",
]


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """Every ```python block of *path* with the line its code starts on."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


def run_markdown_examples(path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run *path*'s blocks in order, in one namespace, with the default clients on *database_url*.

    Tracebacks name the Markdown file and line. The default clients' pool is
    closed before (so they read the new ``DATABASE_URL``) and after.
    """
    for name in ("DB_METHOD", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    codex_db.close_db_pool()
    try:
        for line, code in python_blocks(path):
            compiled = compile("\n" * (line - 1) + code, str(path), "exec")
            exec(compiled, namespace)  # noqa: S102 - the documented examples are the code under test
    finally:
        codex_db.close_db_pool()
        for value in namespace.values():
            if isinstance(value, codex_db.Database):
                value.close()


def test_readme_sections_have_examples() -> None:
    """Every section the issues ask for is there, in order, and the README has examples."""
    text = README.read_text()
    starts = [text.index(heading) for heading in SECTIONS]
    assert starts == sorted(starts)
    assert len(python_blocks(README)) >= 20


def test_readme_examples_run(
    migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of the README runs against a fresh migrated database."""
    monkeypatch.setenv("BETTER_AUTH_SECRET", "readme-example-secret-0123456789")
    run_markdown_examples(README, migrated_database(), monkeypatch)
