"""Development data: ``codex-db seed`` runs the project's seed files; ``reset`` starts over.

A seed is ``seed/*.sql`` at the project root, run in file-name order in one
transaction on a migrated database. Write seeds idempotently (fixed keys,
``ON CONFLICT DO NOTHING``): `seed()` may run again and again. `reset()` drops
and recreates a development database, migrates it and seeds it. Neither runs
on production: the callers refuse it (`codex_db._target`).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from codex_db import migrate
from codex_db._dsn import direct_url, display, scrub, with_dbname
from codex_db.errors import CodexDBError
from codex_db.project import Project

__all__ = ["SeedError", "reset", "seed", "seed_files"]


class SeedError(CodexDBError):
    """The seed files could not run, or the database could not be reset."""


def seed_files(project: Project) -> list[Path]:
    """The project's seed files, in the order they run."""
    return sorted(project.seeds.glob("*.sql")) if project.seeds.is_dir() else []


def seed(url: str, project: Project) -> list[Path]:
    """Run every seed file on the database at *url*, in one transaction; return the files.

    Raises:
        SeedError: migrations are pending, or a seed file fails (named, nothing kept).
    """
    pending = migrate.pending(url, source=project.migrations)
    if pending:
        raise SeedError(
            f"{len(pending)} migration(s) pending on {display(url)}: run `codex-db migrate`"
            " first (seeds are written for the current schema)"
        )
    files = seed_files(project)
    with psycopg.connect(direct_url(url)) as conn, conn.transaction():
        for path in files:
            try:
                conn.execute(path.read_bytes())
            except psycopg.Error as exc:
                raise SeedError(
                    f"{path} failed, nothing was seeded: {scrub(str(exc), url).strip()}"
                ) from exc
    return files


def reset(url: str, project: Project) -> tuple[list[str], list[Path]]:
    """Drop and recreate the database at *url*, migrate it and seed it.

    Returns the migrations applied and the seed files run. Every connection to
    the database is closed (``DROP DATABASE ... WITH (FORCE)``).
    """
    direct = direct_url(url)
    name = str(conninfo_to_dict(direct).get("dbname") or "")
    if not name:
        raise SeedError(f"{display(url)} names no database to reset")
    admin = with_dbname(direct, "template1" if name == "postgres" else "postgres")
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise SeedError(
            f"cannot recreate {display(url)}: {scrub(str(exc), url).strip()}"
            " (the role needs CREATEDB on that server)"
        ) from exc
    applied = migrate.apply(url, source=project.migrations)
    return applied, seed(url, project)
