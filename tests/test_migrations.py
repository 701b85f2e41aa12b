"""yoyo migrations: apply, roll back, re-apply, status, and the drift check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db import migrate
from codex_db.errors import MigrationError
from codex_db.project import Project
from codex_db.workflow import catalog

ALL = [
    "0001.auth",
    "0002.content",
    "0003.triggers",
    "0004.query-indexes",
    "0005.published-has-date",
    "0006.drop-published-at-index",
    "0007.list_plan_indexes_indexes",
    "0008.list_filter_indexes_indexes",
]


def _snapshot(url: str) -> catalog.Snapshot:
    with psycopg.connect(url) as conn:
        return catalog.snapshot(conn)


def _from_sql(url: str, folder: Path | None = None) -> catalog.Snapshot:
    with psycopg.connect(url) as conn:
        catalog.apply_sql_dir(conn, folder)
        return catalog.snapshot(conn)


def test_apply_rollback_reapply(fresh_database: Callable[..., str]) -> None:
    """All migrations apply, roll back to an empty schema, and apply again."""
    url = fresh_database()
    empty = _snapshot(url)
    assert migrate.pending(url) == ALL
    assert migrate.apply(url) == ALL
    assert migrate.pending(url) == []
    assert migrate.apply(url) == []
    assert [s.id for s in migrate.status(url) if s.applied_at] == ALL
    assert migrate.rollback(url, count=None) == list(reversed(ALL))
    assert catalog.compare(empty, _snapshot(url)) == []
    assert migrate.apply(url) == ALL


def test_rollback_one_at_a_time(fresh_database: Callable[..., str]) -> None:
    """Rolling back the latest migrations, one by one, leaves the earlier ones applied."""
    url = fresh_database()
    migrate.apply(url)
    for expected in reversed(ALL[3:]):
        assert migrate.rollback(url) == [expected]
        assert migrate.pending(url) == ALL[ALL.index(expected) :]
    with psycopg.connect(url) as conn:
        snapshot = catalog.snapshot(conn)
    assert "public.idx_content_title_trgm" not in snapshot["index"]
    assert "public.idx_content_published_at" in snapshot["index"]
    assert not any("check_published_has_date" in name for name in snapshot["constraint"])
    assert migrate.rollback(url) == ["0003.triggers"]
    assert migrate.pending(url) == ALL[2:]
    with psycopg.connect(url) as conn:
        assert catalog.snapshot(conn)["trigger"] == {}


def test_migrations_build_exactly_sql_schema(fresh_database: Callable[..., str]) -> None:
    """The drift check: migrations/ and sql/ produce identical catalogs."""
    migrated = fresh_database()
    migrate.apply(migrated)
    differences = catalog.compare(
        _from_sql(fresh_database()), _snapshot(migrated), labels=("sql/", "migrations/")
    )
    assert differences == [], "\n".join(differences)


def test_drift_check_reports_an_injected_difference(
    fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """A column, an index and a changed check added only to sql/ are each reported."""
    migrated = fresh_database()
    migrate.apply(migrated)
    changed = tmp_path / "sql"
    changed.mkdir()
    for path in Project.packaged().sql.glob("*.sql"):
        (changed / path.name).write_text(path.read_text())
    content = changed / "content.sql"
    text = content.read_text().replace("CHECK (price_cents >= 0)", "CHECK (price_cents >= 1)")
    content.write_text(
        text + "\nALTER TABLE content ADD COLUMN subtitle text;\n"
        "CREATE INDEX idx_content_title ON content (title);\n"
    )
    report = catalog.compare(
        _from_sql(fresh_database(), changed), _snapshot(migrated), labels=("sql/", "migrations/")
    )
    assert any(line.startswith("column public.content.subtitle: only in sql/") for line in report)
    assert any(line.startswith("index public.idx_content_title: only in sql/") for line in report)
    assert any("check_price_non_negative: differs" in line for line in report)


def test_every_migration_has_a_rollback() -> None:
    """Each NNNN.slug.sql has its .rollback.sql beside it."""
    forward = sorted(
        p for p in Project.packaged().migrations.glob("*.sql") if ".rollback." not in p.name
    )
    assert [p.stem for p in forward] == ALL
    for path in forward:
        assert path.with_name(f"{path.stem}.rollback.sql").is_file(), path


def test_missing_folder_is_a_clear_error(
    fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """A wrong migrations path names the folder."""
    with pytest.raises(MigrationError, match="migrations folder not found"):
        migrate.apply(fresh_database(), source=tmp_path / "nope")


def test_unreachable_database_error_hides_password() -> None:
    """A connection failure names the redacted URL, never the password."""
    url = "postgresql://someone:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(MigrationError) as info:
        migrate.apply(url)
    assert "hunter2" not in str(info.value)
    assert "someone:***@127.0.0.1:1/nowhere" in str(info.value)
