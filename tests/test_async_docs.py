"""docs/async.md: the Async, pooler and retry sections, with examples that run."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_runtime_docs import python_blocks, run_markdown_examples

DOCS = Path(__file__).resolve().parent.parent / "docs" / "async.md"


def test_sections_and_examples() -> None:
    """The fragment has the three README sections, each with a Python example."""
    text = DOCS.read_text()
    sections = ["## Async", "## Running behind a pooler (Neon)", "## Retries and timeouts"]
    starts = [text.index(heading) for heading in sections]
    assert starts == sorted(starts)
    bounds = [*starts, len(text)]
    for start, end in itertools.pairwise(bounds):
        assert "```python" in text[start:end]


def test_examples_run(
    migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of docs/async.md runs against a fresh migrated database."""
    assert len(python_blocks(DOCS)) == 3
    run_markdown_examples(DOCS, migrated_database(), monkeypatch)
