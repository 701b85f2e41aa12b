"""Content checksums of applied migrations (yoyo itself hashes only the file name).

`migrate.apply()` records the SHA-256 of each forward file it applies in
``_codex_migration_checksum``; comparing them with the files finds a migration
edited after it was applied.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["TABLE", "digest", "forget", "record", "recorded"]

TABLE = "_codex_migration_checksum"

_CREATE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    migration_id text PRIMARY KEY,
    sha256 text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
)"""


def digest(path: Path | str) -> str:
    """The SHA-256 of a migration file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record(backend: Any, migrations: list[Any], *, replace: bool = False) -> None:
    """Store the checksum of each of *migrations* (keeping existing ones unless *replace*)."""
    if not migrations:
        return
    conflict = "UPDATE SET sha256 = EXCLUDED.sha256, recorded_at = now()" if replace else "NOTHING"
    with backend.transaction():
        backend.execute(_CREATE)
        for migration in migrations:
            backend.execute(
                f"INSERT INTO {TABLE} (migration_id, sha256) VALUES (:id, :sha)"
                f" ON CONFLICT (migration_id) DO {conflict}",
                {"id": migration.id, "sha": digest(migration.path)},
            )


def forget(backend: Any, ids: list[str]) -> None:
    """Drop the checksums of rolled-back migrations."""
    if not ids or not _exists(backend):
        return
    with backend.transaction():
        for migration_id in ids:
            backend.execute(f"DELETE FROM {TABLE} WHERE migration_id = :id", {"id": migration_id})


def recorded(backend: Any) -> dict[str, str]:
    """Migration id -> recorded checksum (empty before anything was recorded)."""
    if not _exists(backend):
        return {}
    rows = backend.execute(f"SELECT migration_id, sha256 FROM {TABLE}").fetchall()
    return {str(mid): str(sha) for mid, sha in rows}


def _exists(backend: Any) -> bool:
    row = backend.execute(f"SELECT to_regclass('{TABLE}') IS NOT NULL").fetchone()
    return bool(row and row[0])
