"""The README's Python examples run, in order, against a migrated database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_runtime_docs import python_blocks, run_markdown_examples

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_has_examples() -> None:
    """The README documents every part with Python examples (none would make the run vacuous)."""
    text = README.read_text()
    for heading in ("## Quick start", "## Usage examples", "## Authentication", "## Migrations"):
        assert heading in text
    assert len(python_blocks(README)) >= 20


def test_readme_examples_run(
    migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of the README runs against a fresh migrated database."""
    monkeypatch.setenv("BETTER_AUTH_SECRET", "readme-example-secret-0123456789")
    run_markdown_examples(README, migrated_database(), monkeypatch)
