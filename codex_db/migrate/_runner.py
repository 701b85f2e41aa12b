"""Running one migration so that a ``kill -9`` at any moment leaves a state we can repair.

Stock yoyo runs a migration's statements on one connection and records it on
another, in two more commits: a process killed in between leaves the schema
changed but the migration unrecorded. Here a transactional migration, its
``_yoyo_migration`` and ``_yoyo_log`` rows and its checksum commit in **one**
transaction (on a connection of its own, as yoyo does, so a session ``SET``
ends with it). The rows are the ones yoyo writes, so plain ``yoyo apply`` and
``yoyo list`` see the same history.

A ``-- transactional: false`` migration cannot be atomic: its statements
commit one by one. It is bracketed by a row in ``_codex_migration_started``,
written before the first statement and deleted in the transaction that records
it, so a killed run leaves a marker that `interrupted()` finds. One made only
of statements that are safe to run twice (the ``CREATE INDEX CONCURRENTLY IF
NOT EXISTS`` / ``DROP INDEX CONCURRENTLY IF EXISTS`` files ``codex-db gen``
writes) is repaired by running it again, after dropping the INVALID index a
killed ``CONCURRENTLY`` build leaves behind (`repair()`).
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import msgspec
from yoyo.migrations import read_sql_migration

from codex_db.migrate import _checksums

__all__ = [
    "MARKER_TABLE",
    "Interrupted",
    "InvalidIndex",
    "apply_one",
    "built_indexes",
    "clear_marker",
    "interrupted",
    "invalid_indexes",
    "repair",
    "rerunnable",
    "rollback_one",
]

MARKER_TABLE = "_codex_migration_started"

_CREATE_MARKERS = f"""CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (
    migration_id text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    pid integer NOT NULL,
    hostname text NOT NULL
)"""

_COMMENT = re.compile(r"^\s*(--[^\n]*\n|/\*.*?\*/)", re.S)
_RERUNNABLE = (
    re.compile(r"set\s+(session\s+)?(lock_timeout|statement_timeout)\b", re.I),
    re.compile(r"create\s+(unique\s+)?index\s+concurrently\s+if\s+not\s+exists\b", re.I),
    re.compile(r"drop\s+index\s+concurrently\s+if\s+exists\b", re.I),
)
_BUILT_INDEX = re.compile(
    r"create\s+(?:unique\s+)?index\s+concurrently\s+if\s+not\s+exists\s+"
    r'(?:"?(?P<schema>[\w$]+)"?\.)?"?(?P<name>[\w$]+)"?',
    re.I,
)


class Interrupted(msgspec.Struct, frozen=True):
    """A non-transactional migration that started and never finished (or failed)."""

    id: str
    started_at: Any
    pid: int
    hostname: str
    rerunnable: bool
    """Whether every statement is safe to run again: `repair()` then does it."""


class InvalidIndex(msgspec.Struct, frozen=True):
    """An index left INVALID, typically by a ``CREATE INDEX CONCURRENTLY`` that did not finish."""

    schema: str
    name: str
    table: str

    @property
    def qualified(self) -> str:
        """``schema.name``, quoted."""
        return f'"{self.schema}"."{self.name}"'


def apply_one(backend: Any, migration: Any) -> None:
    """Apply *migration* and record it (yoyo's rows and the checksum) atomically where possible."""
    backend.ensure_internal_schema_updated()
    if migration.use_transactions:
        with _copy(backend) as run, run.transaction():
            migration.process_steps(run, "apply")
            _record(run, migration)
        return
    _start(backend, migration)
    with _copy(backend) as run:
        migration.process_steps(run, "apply")
    with backend.transaction():
        _record(backend, migration)
        backend.execute(
            f"DELETE FROM {MARKER_TABLE} WHERE migration_id = :id", {"id": migration.id}
        )


def rollback_one(backend: Any, migration: Any) -> None:
    """Roll *migration* back and forget it, in one transaction when it is transactional."""
    backend.ensure_internal_schema_updated()
    if migration.use_transactions:
        with _copy(backend) as run, run.transaction():
            migration.process_steps(run, "rollback")
            _unrecord(run, migration)
        return
    with _copy(backend) as run:
        migration.process_steps(run, "rollback")
    with backend.transaction():
        _unrecord(backend, migration)


def interrupted(backend: Any, migrations: Any) -> list[Interrupted]:
    """The migrations of *migrations* whose start is recorded and whose end is not."""
    if not _has_markers(backend):
        return []
    rows = backend.execute(
        f"SELECT migration_id, started_at, pid, hostname FROM {MARKER_TABLE} ORDER BY started_at"
    ).fetchall()
    applied = set(backend.get_applied_migration_hashes())
    by_id = {m.id: m for m in migrations}
    found: list[Interrupted] = []
    for mid, started_at, pid, hostname in rows:
        migration = by_id.get(mid)
        if migration is None or migration.hash in applied:
            continue
        found.append(Interrupted(mid, started_at, pid, hostname, rerunnable(migration.path)))
    return found


def clear_marker(backend: Any, migration_id: str) -> None:
    """Forget that *migration_id* was started (it is about to run again, or was repaired)."""
    if _has_markers(backend):
        with backend.transaction():
            backend.execute(
                f"DELETE FROM {MARKER_TABLE} WHERE migration_id = :id", {"id": migration_id}
            )


def rerunnable(path: str) -> bool:
    """Whether every statement of the migration at *path* is safe to run twice."""
    _, _, statements = read_sql_migration(path)
    return all(_is_rerunnable(s) for s in statements)


def invalid_indexes(backend: Any) -> list[InvalidIndex]:
    """Every INVALID index of the database (a killed or failed ``CONCURRENTLY`` build)."""
    rows = backend.execute(
        """SELECT n.nspname, i.relname, t.relname
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = i.relnamespace
           WHERE NOT x.indisvalid
           ORDER BY 1, 2"""
    ).fetchall()
    return [InvalidIndex(str(s), str(n), str(t)) for s, n, t in rows]


def built_indexes(path: str) -> set[str]:
    """The names of the indexes the migration at *path* builds ``CONCURRENTLY``."""
    _, _, statements = read_sql_migration(path)
    return {m["name"] for s in statements if (m := _BUILT_INDEX.search(_strip(s)))}


def repair(backend: Any, migration: Any) -> list[str]:
    """Drop the INVALID indexes *migration* builds, so that running it again builds them.

    Returns the indexes dropped. Call it only for a `rerunnable()` migration whose
    run was interrupted; the caller then applies it as usual.
    """
    built = built_indexes(migration.path)
    dropped: list[str] = []
    for index in invalid_indexes(backend):
        if index.name in built:
            with _copy(backend) as run, run.disable_transactions():
                run.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index.qualified}")
            dropped.append(f"{index.schema}.{index.name}")
    return dropped


def _is_rerunnable(statement: str) -> bool:
    body = _strip(statement)
    return not body or any(p.match(body) for p in _RERUNNABLE)


def _strip(statement: str) -> str:
    body = statement.strip()
    while True:
        stripped = _COMMENT.sub("", body + "\n", count=1).strip()
        if stripped == body:
            return body.rstrip(";").strip()
        body = stripped


def _copy(backend: Any) -> Any:
    run = backend.copy()
    run._internal_schema_updated = True  # the caller's backend just checked it
    return run


def _start(backend: Any, migration: Any) -> None:
    with backend.transaction():
        backend.execute(_CREATE_MARKERS)
        backend.execute(
            f"INSERT INTO {MARKER_TABLE} (migration_id, pid, hostname)"
            " VALUES (:id, :pid, :host) ON CONFLICT (migration_id) DO UPDATE"
            " SET started_at = now(), pid = EXCLUDED.pid, hostname = EXCLUDED.hostname",
            {"id": migration.id, "pid": os.getpid(), "host": socket.gethostname()},
        )


def _record(backend: Any, migration: Any) -> None:
    backend.mark_one(migration, log=False)
    backend.log_migration(migration, "apply")
    _checksums.record(backend, [migration], replace=True)


def _unrecord(backend: Any, migration: Any) -> None:
    backend.unmark_one(migration, log=False)
    backend.log_migration(migration, "rollback")
    _checksums.forget(backend, [migration.id])


def _has_markers(backend: Any) -> bool:
    row = backend.execute(f"SELECT to_regclass('{MARKER_TABLE}') IS NOT NULL").fetchone()
    return bool(row and row[0])
