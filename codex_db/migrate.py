"""Apply and roll back the yoyo migrations in ``migrations/``.

Every function takes the database URL (any libpq URL or key/value string) and
works under yoyo's lock, so concurrent deploys apply each migration once.
Run migrations over a direct connection, never through a transaction pooler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from yoyo import get_backend, read_migrations
from yoyo.exceptions import LockTimeout

from codex_db._dsn import redact, yoyo_url
from codex_db._paths import migrations_dir
from codex_db.errors import MigrationError

__all__ = ["MigrationStatus", "apply", "pending", "rollback", "status"]


class MigrationStatus(msgspec.Struct, frozen=True):
    """One migration and when it was applied (``None``: pending)."""

    id: str
    applied_at: datetime | None


def apply(
    url: str,
    *,
    source: Path | None = None,
    lock_timeout: float = 0,
    progress: Callable[[str], object] | None = None,
) -> list[str]:
    """Apply every pending migration, in dependency order; return their ids.

    *lock_timeout* is how long to wait for another process's migration lock
    (0 waits for ever, which is what a deploy racing another deploy wants).
    *progress* is called with each migration id once it is applied. A failing
    migration raises `MigrationError` naming it; the ones before it stay applied.
    """
    with _backend(url) as backend, _locked(backend, url, lock_timeout):
        todo = backend.to_apply(_read(source))
        for migration in todo:
            _apply_one(backend, todo, migration)
            if progress:
                progress(migration.id)
        return [m.id for m in todo]


def rollback(
    url: str, *, count: int | None = 1, source: Path | None = None, lock_timeout: float = 0
) -> list[str]:
    """Roll back the *count* latest migrations (all with ``None``); return their ids."""
    with _backend(url) as backend, _locked(backend, url, lock_timeout):
        applied = backend.to_rollback(_read(source))
        todo = applied.__class__(list(applied)[:count], applied.post_apply)
        backend.rollback_migrations(todo)
        return [m.id for m in todo]


def pending(url: str, *, source: Path | None = None) -> list[str]:
    """The ids of the migrations not yet applied, in the order they would run."""
    with _backend(url) as backend:
        return [m.id for m in backend.to_apply(_read(source))]


def status(url: str, *, source: Path | None = None) -> list[MigrationStatus]:
    """Every migration with the time it was applied, in dependency order."""
    with _backend(url) as backend:
        backend.ensure_internal_schema_updated()
        rows = backend.execute(
            "SELECT migration_id, applied_at_utc FROM _yoyo_migration"
        ).fetchall()
        applied: dict[str, datetime] = dict(rows)
        return [MigrationStatus(m.id, applied.get(m.id)) for m in _read(source)]


def _apply_one(backend: Any, todo: Any, migration: Any) -> None:
    try:
        backend.apply_migrations(todo.__class__([migration], todo.post_apply))
    except psycopg.Error as exc:
        raise MigrationError(
            f"migration {migration.id} failed and was rolled back: {redact(str(exc))}"
            f" (file: {migration.path})"
        ) from exc


def _read(source: Path | None) -> Any:
    path = source or migrations_dir()
    if not path.is_dir():
        raise MigrationError(f"migrations folder not found: {path}")
    return read_migrations(str(path))


@contextmanager
def _backend(url: str) -> Iterator[Any]:
    try:
        backend = get_backend(yoyo_url(url))
    except Exception as exc:
        raise MigrationError(
            f"cannot open {redact(url)} for migrations: {redact(str(exc))}"
        ) from exc
    try:
        yield backend
    finally:
        backend.connection.close()


@contextmanager
def _locked(backend: Any, url: str, timeout: float) -> Iterator[None]:
    try:
        with backend.lock(timeout=timeout):
            yield
    except LockTimeout as exc:
        raise MigrationError(
            f"{exc} on {redact(url)}: wait for the other migration to finish,"
            " or break a stale lock left by a killed process"
        ) from exc
