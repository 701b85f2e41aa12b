"""The runtime documentation's Python examples run, in order, against a migrated database.

`run_markdown_examples()` takes any Markdown file, so the README can be checked
the same way once this fragment is merged into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import codex_db

DOCS = Path(__file__).resolve().parent.parent / "docs" / "runtime.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


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


def test_docs_have_examples() -> None:
    """The fragment documents every part of the runtime with Python examples."""
    text = DOCS.read_text()
    for heading in ("## Configuration", "## Database clients", "## Error handling"):
        assert heading in text
    assert "## Database triggers" in text
    assert len(python_blocks(DOCS)) >= 10


def test_docs_examples_run(
    migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of docs/runtime.md runs against a fresh migrated database."""
    run_markdown_examples(DOCS, migrated_database(), monkeypatch)
