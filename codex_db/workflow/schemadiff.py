"""Scratch databases and the SQL that turns one schema into another.

Build a database from ``migrations/`` and one from ``sql/`` on the same server
(`scratch_database()`, `build_from_migrations()`, `build_from_sql()`), then
`diff()` them with the ``results`` 1.4 differ (pinned: 2.0 emits broken SQL).
Diff databases of the same server: view bodies deparse differently across
major versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import psycopg
import sqlparse
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from codex_db import migrate
from codex_db._dsn import display, scrub, to_url, with_dbname
from codex_db.errors import CodexDBError
from codex_db.workflow import catalog

__all__ = [
    "SchemaDiffError",
    "build_from_migrations",
    "build_from_sql",
    "diff",
    "scratch_database",
    "snapshot",
    "split",
]

_INSTALL_HINT = "install the schema differ: pip install 'codex-db[tools]'"


class SchemaDiffError(CodexDBError):
    """A scratch database could not be built or diffed."""


@contextmanager
def scratch_database(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """Create an empty database on the server of *server_url*; yield its URL; drop it after.

    With *template* (the URL of another scratch database, nobody connected to
    it) the new one is a copy of it, which is much faster than rebuilding it.
    The role needs CREATEDB. The database is dropped ``WITH (FORCE)`` even if
    the block fails, and the differ's connection pool to it is closed.
    """
    name = f"codex_scratch_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        _close_pool(template)
        source = str(conninfo_to_dict(template)["dbname"])
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(source))
    _admin(server_url, create)
    url = with_dbname(server_url, name)
    try:
        yield url
    finally:
        _close_pool(url)
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        _admin(server_url, drop)


def build_from_sql(url: str, folder: Path) -> None:
    """Run ``folder/*.sql`` (the declarative schema) into the database at *url*."""
    with psycopg.connect(url) as conn:
        try:
            catalog.apply_sql_dir(conn, folder)
        except psycopg.Error as exc:
            notes = "; ".join(getattr(exc, "__notes__", []))
            raise SchemaDiffError(f"{folder} does not apply: {str(exc).strip()} ({notes})") from exc


def build_from_migrations(url: str, folder: Path) -> None:
    """Apply every migration of *folder* to *url*, then drop the bookkeeping tables.

    The bookkeeping tables would otherwise show up in a diff as schema.
    """
    migrate.apply(url, source=folder)
    with psycopg.connect(url, autocommit=True) as conn:
        tables = sql.SQL(", ").join(sql.Identifier(t) for t in catalog.IGNORED_TABLES)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tables))


def diff(current_url: str, target_url: str) -> list[str]:
    """The statements that make the database at *current_url* look like *target_url*.

    Empty when the schemas are the same. Review the result: a differ cannot
    tell a rename from a drop plus an add (see `codex_db.hazards`).
    """
    results = _results()
    urls = to_url(current_url), to_url(target_url)
    try:
        script = results.db(urls[0]).schemadiff_as_sql(results.db(urls[1]))
    finally:
        for url in urls:
            _close_pool(url)
    return split(str(script))


def split(script: str) -> list[str]:
    """Split an SQL script into statements (dollar-quoted bodies kept whole)."""
    return [s.strip() for s in sqlparse.split(script) if s.strip().strip(";").strip()]


def snapshot(url: str) -> catalog.Snapshot:
    """The catalog snapshot of the database at *url*."""
    with psycopg.connect(url) as conn:
        return catalog.snapshot(conn)


def _admin(server_url: str, statement: sql.Composed) -> None:
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(statement)
    except psycopg.Error as exc:
        reason = scrub(str(exc), server_url).strip()
        raise SchemaDiffError(
            f"cannot manage scratch databases on {display(server_url)}: {reason}"
            " (the role needs CREATEDB; point --scratch-url at a server where it has it)"
        ) from exc


def _close_pool(url: str) -> None:
    try:
        from results.database import close_pool
    except ImportError:
        return
    close_pool(to_url(url))  # type: ignore[no-untyped-call]


def _results() -> ModuleType:
    try:
        import results
    except ImportError as exc:
        raise SchemaDiffError(f"the schema differ is not installed: {_INSTALL_HINT}") from exc
    return results
