"""Apply and roll back the yoyo migrations in ``migrations/``.

Every function takes the database URL (any libpq URL or key/value string).
Writes happen under yoyo's lock, so concurrent deploys apply each migration
once; a lock left by a killed process is reported as stale (`StaleLockError`)
instead of being waited on for ever. Migrations always run over the direct
URL: Neon's ``-pooler`` host suffix is stripped (`direct_url()`).

yoyo identifies a migration by its file name only, so `apply()` also records
a checksum of each file it applies; `status()` reports a migration whose file
was edited after it was applied.

A transactional migration is applied and recorded in one transaction, so a
process killed at any moment leaves it either applied and recorded or not
applied at all (`codex_db.migrate._runner`). A ``-- transactional: false``
one leaves a marker while it runs: `status()` reports it as interrupted, and
`apply()` runs it again when all its statements are safe to repeat.
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
from yoyo.migrations import read_sql_migration

from codex_db._dsn import direct_url, display, redact, scrub, yoyo_url
from codex_db.errors import MigrationError
from codex_db.migrate import _checksums, _runner
from codex_db.migrate.lock import (
    LockError,
    LockHolder,
    StaleLockError,
    lock_holder,
    locked,
    with_app_name,
)
from codex_db.migrate.lock import break_lock as _break_lock
from codex_db.project import Project

__all__ = [
    "DryRun",
    "Interrupted",
    "InterruptedMigrationError",
    "InvalidIndex",
    "LockError",
    "LockHolder",
    "MigrationStatus",
    "StaleLockError",
    "apply",
    "break_lock",
    "dry_run",
    "interrupted",
    "interrupted_indexes",
    "invalid_indexes",
    "lock_status",
    "mark",
    "pending",
    "rollback",
    "rollback_plan",
    "status",
    "unknown_applied",
]


Interrupted = _runner.Interrupted
InvalidIndex = _runner.InvalidIndex
Interrupted.__module__ = InvalidIndex.__module__ = __name__


class InterruptedMigrationError(MigrationError):
    """A non-transactional migration was interrupted and is not safe to run again as is."""


class MigrationStatus(msgspec.Struct, frozen=True):
    """One migration and when it was applied (``None``: pending)."""

    id: str
    applied_at: datetime | None
    edited: bool = False
    """Applied, but the file changed since (its checksum differs from the recorded one)."""
    interrupted: bool = False
    """Started (non-transactional) and never finished: see `interrupted()`."""
    checksummed: bool = False
    """Applied with a recorded checksum (by ``codex-db migrate``; plain yoyo records none)."""


class DryRun(msgspec.Struct, frozen=True):
    """What `dry_run()` checked: migrations applied then rolled back, and the ones it could not."""

    checked: list[str]
    unchecked: list[str]
    reason: str = ""


def apply(
    url: str,
    *,
    source: Path | None = None,
    lock_timeout: float = 0,
    progress: Callable[[str], object] | None = None,
    on_wait: Callable[[LockHolder], object] | None = None,
    rerun_interrupted: bool = False,
    on_repair: Callable[[str, list[str]], object] | None = None,
    only: set[str] | None = None,
) -> list[str]:
    """Apply every pending migration, in dependency order; return their ids.

    *lock_timeout* is how long to wait for another process's migration lock
    (0 waits as long as that process is connected). *progress* is called with
    each migration id once it is applied; *on_wait* once if
    the lock is busy. A failing migration raises `MigrationError` naming it;
    the ones before it stay applied. Applied migrations without a recorded
    checksum (applied before codex-db recorded them) get one.

    An interrupted non-transactional migration (`interrupted()`) is run again
    when its statements are safe to repeat, after dropping the INVALID indexes
    it left (*on_repair* is called with its id and those indexes); otherwise
    `InterruptedMigrationError` names it, unless *rerun_interrupted* says to run it anyway.
    With *only*, just those ids are applied (to rebuild a database's history).
    """
    with (
        _backend(url) as backend,
        locked(backend, direct_url(url), timeout=lock_timeout, on_wait=on_wait),
    ):
        migrations = _read(source)
        _repair_interrupted(backend, migrations, rerun_interrupted, on_repair)
        todo = backend.to_apply(migrations)
        if only is not None:
            todo = todo.__class__([m for m in todo if m.id in only], todo.post_apply)
        _backfill_checksums(backend, migrations, todo)
        for migration in todo:
            _apply_one(backend, migration)
            if progress:
                progress(migration.id)
        return [m.id for m in todo]


def interrupted(url: str, *, source: Path | None = None) -> list[Interrupted]:
    """The non-transactional migrations that started on *url* and never finished."""
    with _backend(url) as backend:
        backend.ensure_internal_schema_updated()
        return _runner.interrupted(backend, _read(source))


def interrupted_indexes(url: str, *, source: Path | None = None) -> set[str]:
    """The indexes interrupted migrations build (present, missing or INVALID: it depends)."""
    paths = {m.id: m.path for m in _read(source)}
    return {
        name for i in interrupted(url, source=source) for name in _runner.built_indexes(paths[i.id])
    }


def invalid_indexes(url: str) -> list[InvalidIndex]:
    """The INVALID indexes on *url* (left by a ``CREATE INDEX CONCURRENTLY`` that failed)."""
    with _backend(url) as backend:
        return _runner.invalid_indexes(backend)


def dry_run(url: str, *, source: Path | None = None) -> DryRun:
    """Run the pending migrations inside one transaction and roll it back.

    The statements run on a single connection, so later migrations see the
    earlier ones; nothing is committed and no lock is taken. A
    ``-- transactional: false`` migration cannot run inside a transaction:
    the dry run stops there and lists it and the ones after it as unchecked.
    """
    todo = pending(url, source=source)
    paths = {m.id: Path(m.path) for m in _read(source)}
    checked: list[str] = []
    with psycopg.connect(direct_url(url)) as conn:
        try:
            for migration_id in todo:
                directives, _, statements = read_sql_migration(str(paths[migration_id]))
                if directives.get("transactional", "true").lower() in ("false", "no", "off"):
                    reason = f"{migration_id} is non-transactional and cannot run in a transaction"
                    return DryRun(checked, todo[len(checked) :], reason)
                _dry_run_one(conn, migration_id, statements)
                checked.append(migration_id)
        finally:
            conn.rollback()
    return DryRun(checked, [])


def rollback(
    url: str,
    *,
    count: int | None = 1,
    to: str | None = None,
    source: Path | None = None,
    lock_timeout: float = 0,
) -> list[str]:
    """Roll back the *count* latest migrations (all with ``None``); return their ids.

    With *to*, roll back every migration applied after *to*, which stays applied.
    """
    with _backend(url) as backend, locked(backend, direct_url(url), timeout=lock_timeout):
        applied = list(backend.to_rollback(_read(source)))
        chosen = _rollback_targets(applied, count, to)
        for migration in chosen:
            _rollback_one(backend, migration)
        return [m.id for m in chosen]


def rollback_plan(
    url: str, *, count: int | None = 1, to: str | None = None, source: Path | None = None
) -> list[str]:
    """The ids `rollback()` would roll back with the same arguments, in order (nothing changes)."""
    with _backend(url) as backend:
        return [
            m.id for m in _rollback_targets(list(backend.to_rollback(_read(source))), count, to)
        ]


def mark(url: str, *, source: Path | None = None, lock_timeout: float = 0) -> list[str]:
    """Record every pending migration as applied without running it; return their ids.

    Use it to baseline a database whose schema already matches (check that
    first: `codex_db.workflow.baseline()` does).
    """
    with _backend(url) as backend, locked(backend, direct_url(url), timeout=lock_timeout):
        todo = backend.to_apply(_read(source))
        backend.mark_migrations(todo)
        _checksums.record(backend, list(todo), replace=True)
        return [m.id for m in todo]


def pending(url: str, *, source: Path | None = None) -> list[str]:
    """The ids of the migrations not yet applied, in the order they would run."""
    with _backend(url) as backend:
        return [m.id for m in backend.to_apply(_read(source))]


def status(url: str, *, source: Path | None = None) -> list[MigrationStatus]:
    """Every migration with the time it was applied, in dependency order.

    A migration applied but edited since carries ``edited=True``.
    """
    with _backend(url) as backend:
        try:
            backend.ensure_internal_schema_updated()
        except LockTimeout as exc:
            raise LockError(
                f"{exc}: if no migration is running, break the lock with"
                " `codex-db migrate --break-lock`"
            ) from exc
        rows = backend.execute("SELECT migration_id, applied_at_utc FROM _yoyo_migration")
        applied: dict[str, datetime] = dict(rows.fetchall())
        sums = _checksums.recorded(backend)
        migrations = _read(source)
        stopped = {i.id for i in _runner.interrupted(backend, migrations)}
        return [
            MigrationStatus(
                m.id,
                applied.get(m.id),
                _edited(m, applied, sums),
                m.id in stopped,
                m.id in applied and m.id in sums,
            )
            for m in migrations
        ]


def unknown_applied(url: str, *, source: Path | None = None) -> list[str]:
    """Ids recorded as applied on *url* that have no file in *source* (deleted or renamed)."""
    with _backend(url) as backend:
        backend.ensure_internal_schema_updated()
        rows = backend.execute("SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc")
        known = {m.id for m in _read(source)}
        return [str(mid) for (mid,) in rows.fetchall() if mid not in known]


def lock_status(url: str) -> LockHolder | None:
    """Who holds the migration lock of the database at *url* (``None``: free)."""
    with _connect(url) as conn:
        return lock_holder(conn)


def break_lock(url: str, *, force: bool = False) -> LockHolder | None:
    """Remove a stale migration lock and return its former holder (``None``: no lock).

    Refuses (`LockError`) while the holder is still connected, unless *force*.
    """
    with _connect(url) as conn:
        return _break_lock(conn, force=force)


def _edited(migration: Any, applied: dict[str, datetime], sums: dict[str, str]) -> bool:
    recorded = sums.get(migration.id)
    return (
        migration.id in applied
        and recorded is not None
        and recorded != _checksums.digest(migration.path)
    )


def _backfill_checksums(backend: Any, migrations: Any, todo: Any) -> None:
    pending_ids = {m.id for m in todo}
    _checksums.record(backend, [m for m in migrations if m.id not in pending_ids])


def _rollback_targets(applied: list[Any], count: int | None, to: str | None) -> list[Any]:
    if to is None:
        return applied if count is None else applied[:count]
    ids = [m.id for m in applied]
    if to not in ids:
        listed = ", ".join(reversed(ids)) or "none"
        raise MigrationError(f"--to {to}: not an applied migration (applied: {listed})")
    return applied[: ids.index(to)]


def _dry_run_one(conn: psycopg.Connection[Any], migration_id: str, statements: list[str]) -> None:
    for statement in statements:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            raise MigrationError(
                f"dry run: migration {migration_id} failed (nothing was applied): "
                f"{redact(str(exc)).strip()}"
            ) from exc


def _apply_one(backend: Any, migration: Any) -> None:
    try:
        _runner.apply_one(backend, migration)
    except psycopg.Error as exc:
        undone = (
            "was rolled back"
            if migration.use_transactions
            else "stopped (non-transactional: the statements before the failing one were"
            " undone by its rollback file where it pairs them; `codex-db status` shows it)"
        )
        raise MigrationError(
            f"migration {migration.id} failed and {undone}: {redact(str(exc))}"
            f" (file: {migration.path})"
        ) from exc


def _rollback_one(backend: Any, migration: Any) -> None:
    try:
        _runner.rollback_one(backend, migration)
    except psycopg.Error as exc:
        raise MigrationError(
            f"rolling back {migration.id} failed: {redact(str(exc))}"
            f" (file: {migration.path[: -len('.sql')]}.rollback.sql)"
        ) from exc


def _repair_interrupted(
    backend: Any,
    migrations: Any,
    rerun: bool,
    on_repair: Callable[[str, list[str]], object] | None,
) -> None:
    backend.ensure_internal_schema_updated()
    for stopped in _runner.interrupted(backend, migrations):
        if not (stopped.rerunnable or rerun):
            raise InterruptedMigrationError(
                f"migration {stopped.id} (non-transactional) started at {stopped.started_at}"
                f" on {stopped.hostname} (pid {stopped.pid}) and did not finish: some of its"
                " statements may be applied. Check the objects it creates, then run"
                " `codex-db migrate --rerun-interrupted` to run it again from the start"
            )
        migration = next(m for m in migrations if m.id == stopped.id)
        dropped = _runner.repair(backend, migration)
        _runner.clear_marker(backend, stopped.id)
        if on_repair:
            on_repair(stopped.id, dropped)


def _read(source: Path | None) -> Any:
    path = source or Project.packaged().migrations
    if not path.is_dir():
        raise MigrationError(f"migrations folder not found: {path}")
    return read_migrations(str(path))


@contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    try:
        conn = psycopg.connect(direct_url(url), autocommit=True)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot connect to {display(url)}: {scrub(str(exc), url)}") from exc
    with conn:
        yield conn


@contextmanager
def _backend(url: str) -> Iterator[Any]:
    try:
        backend = get_backend(yoyo_url(with_app_name(direct_url(url))))
    except Exception as exc:
        raise MigrationError(
            f"cannot open {display(url)} for migrations: {scrub(str(exc), url)}"
        ) from exc
    try:
        yield backend
    finally:
        backend.connection.close()
