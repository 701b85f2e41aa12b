"""The commands that edit the migration files: new, drop, renumber; and migrations-path."""

from __future__ import annotations

import argparse

from codex_db import migrate
from codex_db.cli import _context as ctx
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import history

__all__ = ["cmd_drop", "cmd_migrations_path", "cmd_new", "cmd_renumber"]


def cmd_new(args: argparse.Namespace) -> int:
    """Write an empty migration pair, numbered and with -- depends: filled in."""
    project = ctx.project(args, required=True)
    path, rollback = history.new_migration(
        project, args.name, transactional=not args.non_transactional
    )
    print(f"wrote {ctx.rel(path, project)} and {ctx.rel(rollback, project)}: write the SQL,")
    print("then make sql/ declare the same schema (codex-db check compares the two)")
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    """Delete the latest (or named) migration, unless the configured database applied it."""
    project = ctx.project(args, required=True)

    def applied(migration_id: str) -> bool:
        try:
            target = ctx.target(args)
            statuses = migrate.status(target.conninfo, source=project.migrations)
        except CodexDBError as exc:
            raise history.HistoryError(
                f"cannot tell whether {migration_id} is applied ({exc}); pass --url of the"
                " development database"
            ) from exc
        return any(s.id == migration_id and s.applied_at for s in statuses)

    for path in history.drop_migration(project, args.id, applied=applied):
        print(f"deleted {ctx.rel(path, project)}")
    return 0


def cmd_renumber(args: argparse.Namespace) -> int:
    """Move this branch's migrations after the others (numbers and -- depends:)."""
    project = ctx.project(args, required=True)
    moving = args.ids or history.own_migrations(project, args.onto)
    if not moving:
        print(f"nothing to renumber: every migration is also on {args.onto}")
        return 0
    for old, new in history.renumber(project, moving):
        print(f"renamed {old} -> {new}")
    print("if a development database applied the old ids, roll them back first (or reset it)")
    return 0


def cmd_migrations_path(args: argparse.Namespace) -> int:
    """Print the folder of the migrations (for `yoyo apply`)."""
    project: Project = ctx.project(args)
    print(project.migrations)
    return 0
