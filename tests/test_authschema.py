"""The better-auth schema check (``codex-db gen:auth``) on the project and on broken schemas."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db.cli import main
from codex_db.project import Project
from codex_db.testing import TestServer
from codex_db.workflow import authschema


def _check(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return authschema.check(conn)


def _broken_sql(tmp_path: Path) -> Path:
    folder = tmp_path / "sql"
    shutil.copytree(Project.packaged().sql, folder)
    auth = folder / "auth.sql"
    text = auth.read_text()
    for old, new in (
        ("    CONSTRAINT sessions_token_unique UNIQUE (token),\n", ""),
        (
            "    email_verified boolean NOT NULL DEFAULT false,",
            "    email_verified integer NOT NULL DEFAULT 0,",
        ),
        ("    image text,", "    image text NOT NULL,"),
        ("    refresh_token_expires_at timestamptz,\n", ""),
        (
            "REFERENCES users (id) ON DELETE CASCADE\n);\n\nCREATE INDEX idx_accounts",
            "REFERENCES users (id)\n);\n\nCREATE INDEX idx_accounts",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    auth.write_text(text)
    return folder


def test_project_auth_tables_satisfy_better_auth(pg_server: TestServer) -> None:
    """sql/ as shipped carries everything better-auth's core schema needs."""
    assert authschema.check_sql(pg_server.url, Project.packaged().sql) == []


def test_broken_schema_reports_each_problem_precisely(
    pg_server: TestServer, tmp_path: Path
) -> None:
    """A missing column, wrong type, nullability, uniqueness and non-cascading FK are each named."""
    problems = authschema.check_sql(pg_server.url, _broken_sql(tmp_path))
    assert problems == [
        "users.email_verified: type integer is not a boolean type",
        "users.image: must be nullable (better-auth leaves it empty)",
        "sessions.token: must be unique (a PRIMARY KEY or UNIQUE constraint on it alone)",
        "accounts.user_id: foreign key to users(id) must be ON DELETE CASCADE",
        "accounts.refresh_token_expires_at: column missing (expected date, nullable)",
    ]


def test_missing_table_is_reported(fresh_database: Callable[..., str]) -> None:
    """A database without the auth tables lists each table and its columns."""
    problems = _check(fresh_database())
    assert len(problems) == 4
    assert problems[0].startswith("users: table missing (better-auth needs id, name, email")


def test_gen_auth_command_fails_on_a_broken_schema(
    fresh_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``codex-db gen:auth`` prints each problem and exits 1."""
    root = tmp_path / "p"
    root.mkdir()
    _broken_sql(root)
    (root / "migrations").mkdir()
    assert main(["--project", str(root), "gen:auth", "--url", fresh_database()]) == 1
    out = capsys.readouterr().out
    assert "missing: sessions.token: must be unique" in out and "5 problem(s)" in out
