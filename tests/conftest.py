from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests._project import copy_project

pytest_plugins = ["codex_db.testing"]

#: Variables that change which database a command resolves or whether it is production.
_TARGET_VARIABLES = (
    "NODE_ENV",
    "APP_ENV",
    "DB_METHOD",
    "DATABASE_POOLER",
    "CODEX_DB_SCRATCH_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable that would make a command resolve another database or production."""
    for name in _TARGET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def url(migrated_database: Callable[[], str]) -> str:
    """URL of a new migrated database of the test's own (dropped after it)."""
    return migrated_database()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this project (sql/, migrations/, queries/, .squawk.toml) in a temporary folder."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def codegen_project(tmp_path: Path) -> Path:
    """`project` plus sqlc.yaml and the generated code, so ``gen`` regenerates Python too."""
    return copy_project(tmp_path / "project", codegen=True)
