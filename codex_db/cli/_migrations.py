"""The commands that apply and inspect migrations: migrate, rollback, status, mark."""

from __future__ import annotations

import argparse
import sys

from codex_db import _target, migrate, workflow
from codex_db.cli import _context as ctx
from codex_db.project import Project

__all__ = ["PENDING", "cmd_mark", "cmd_migrate", "cmd_rollback", "cmd_status"]

#: Exit code of ``codex-db status`` when migrations are pending.
PENDING = 3


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations and print each one applied."""
    target = ctx.target(args)
    project = ctx.project(args)
    print(
        f"migrating {target.display}"
        + (" (direct host: pooler suffix removed)" if target.direct != target.conninfo else "")
    )
    if args.break_lock:
        _break_lock(args, target)
    if args.dry_run:
        return _dry_run(target, project)
    if args.skip_drift_check:
        print("  drift check skipped (--skip-drift-check)")
    else:
        _guard(args, target, project)
    clock = ctx.Clock()
    applied = migrate.apply(
        target.conninfo,
        source=project.migrations,
        lock_timeout=args.lock_timeout,
        progress=lambda mid: print(f"  applied {mid} ({clock.lap():.2f} s)", flush=True),
        on_wait=lambda holder: print(f"  waiting: {holder.describe()}", flush=True),
        rerun_interrupted=args.rerun_interrupted,
        on_repair=lambda mid, dropped: print(
            f"  {mid} was interrupted: running it again"
            + (f" (dropped the INVALID index {', '.join(dropped)})" if dropped else ""),
            flush=True,
        ),
    )
    total = clock.total()
    print(
        f"{len(applied)} migration(s) applied in {total:.2f} s"
        if applied
        else "nothing to apply: up to date"
    )
    if _target.release_migrations(target):
        print("the embedded database is up to date: the clients migrate it on start again")
    _warn_edited(target, project)
    return 0


def _guard(args: argparse.Namespace, target: _target.Target, project: Project) -> None:
    """Refuse to migrate a database that drifted, or with migrations that do not build sql/."""
    try:
        scratch = ctx.scratch(args, target)
    except ctx.RefusedError as exc:
        raise ctx.RefusedError(
            f"{exc}, or pass --skip-drift-check (after `codex-db check` passed in CI)"
        ) from exc
    repairing = migrate.interrupted_indexes(target.conninfo, source=project.migrations)
    differences = workflow.target_drift(
        target.conninfo, scratch, project, ignore_indexes=frozenset(repairing)
    )
    if differences:
        listed = "\n  ".join(differences)
        raise workflow.DriftError(
            f"{target.display} is not what its applied migrations build, so nothing was applied"
            " (a change made by hand, or an applied migration edited since: undo it, put it in"
            " a migration, or pass --skip-drift-check; a database built by other means is"
            f" adopted with `codex-db mark`):\n  {listed}"
        )
    pending = migrate.pending(target.conninfo, source=project.migrations)
    if pending and project.sql.is_dir():
        mismatch = workflow.sql_drift(scratch, project)
        if mismatch:
            listed = "\n  ".join(mismatch)
            raise workflow.DriftError(
                "the pending migrations would not build sql/, so nothing was applied"
                f" (run `codex-db gen`, or pass --skip-drift-check):\n  {listed}"
            )
    print("  drift check: the database is what its migrations built; migrations/ build sql/")


def cmd_rollback(args: argparse.Namespace) -> int:
    """Roll back the latest migration(s) after confirmation."""
    target = ctx.target(args)
    project = ctx.project(args)
    ctx.refuse_production(target, args, "rollback")
    count = None if args.to else args.last
    todo = migrate.rollback_plan(
        target.conninfo, count=count, to=args.to, source=project.migrations
    )
    if not todo:
        print("nothing to roll back")
        return 0
    print(f"will roll back on {target.display}: {', '.join(todo)}")
    ctx.confirm(args, "roll back these migrations (their data changes are lost)?")
    done = migrate.rollback(target.conninfo, count=count, to=args.to, source=project.migrations)
    for mid in done:
        print(f"  rolled back {mid}")
    print(f"{len(done)} migration(s) rolled back")
    if _target.hold_migrations(target, f"codex-db rollback rolled back {', '.join(done)}"):
        print(
            "the clients and the studio will not migrate the embedded database again"
            " until `codex-db migrate` brings it up to date"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print every migration with its state; exit 3 when any is pending."""
    target = ctx.target(args)
    project = ctx.project(args)
    statuses = migrate.status(target.conninfo, source=project.migrations)
    print(f"database {target.display}")
    for item in statuses:
        when = (
            item.applied_at.isoformat(sep=" ", timespec="seconds") + " UTC"
            if item.applied_at
            else ""
        )
        print(f"  {_state(item):8} {item.id:40} {when}")
    holder = migrate.lock_status(target.conninfo)
    if holder:
        fix = "; break it with: codex-db migrate --break-lock" if holder.stale else ""
        print(f"lock: {holder.describe()}{fix}")
    pending = [s.id for s in statuses if s.applied_at is None]
    edited = [s.id for s in statuses if s.edited]
    print(f"{len(statuses) - len(pending)} applied, {len(pending)} pending")
    trouble = _print_trouble(target, project)
    if edited:
        print(
            f"edited after being applied: {', '.join(edited)} (see `codex-db check`)",
            file=sys.stderr,
        )
    if edited or trouble:
        return 1
    return PENDING if pending else 0


def _state(item: migrate.MigrationStatus) -> str:
    if item.edited:
        return "EDITED"
    if item.applied_at:
        return "applied"
    return "STOPPED" if item.interrupted else "pending"


def _print_trouble(target: _target.Target, project: Project) -> bool:
    """Print interrupted migrations and INVALID indexes with their fix; whether there were any."""
    stopped = migrate.interrupted(target.conninfo, source=project.migrations)
    for item in stopped:
        fix = (
            "run `codex-db migrate`: it is safe to run again and will be"
            if item.rerunnable
            else "check what it created, then run `codex-db migrate --rerun-interrupted`"
        )
        print(
            f"interrupted: {item.id} started at {item.started_at} on {item.hostname}"
            f" (pid {item.pid}) and did not finish; {fix}",
            file=sys.stderr,
        )
    invalid = migrate.invalid_indexes(target.conninfo)
    for index in invalid:
        owner = (
            "codex-db migrate rebuilds it"
            if stopped
            else (f"drop it (DROP INDEX CONCURRENTLY {index.qualified}) and build it again")
        )
        print(
            f"invalid index: {index.schema}.{index.name} on {index.table} (a CREATE INDEX"
            f" CONCURRENTLY that did not finish): {owner}",
            file=sys.stderr,
        )
    return bool(stopped or invalid)


def cmd_mark(args: argparse.Namespace) -> int:
    """Baseline a database whose schema already matches sql/."""
    target = ctx.target(args)
    project = ctx.project(args)
    marked = workflow.baseline(target.conninfo, ctx.scratch(args, target), project)
    for mid in marked:
        print(f"  marked {mid} as applied")
    print(
        f"{target.display} matches sql/; {len(marked)} migration(s) marked as applied"
        if marked
        else "nothing to mark: every migration is recorded as applied"
    )
    return 0


def _dry_run(target: ctx.Target, project: Project) -> int:
    result = migrate.dry_run(target.conninfo, source=project.migrations)
    for mid in result.checked:
        print(f"  ok (rolled back) {mid}")
    if result.unchecked:
        print(f"not checked: {', '.join(result.unchecked)}: {result.reason}")
    if not result.checked and not result.unchecked:
        print("nothing to apply: up to date")
    print("dry run: nothing was applied")
    return 0


def _break_lock(args: argparse.Namespace, target: ctx.Target) -> None:
    holder = migrate.lock_status(target.conninfo)
    if holder is None:
        print("no migration lock to break")
        return
    print(holder.describe())
    ctx.refuse_production(target, args, "break-lock")
    ctx.confirm(args, "break this migration lock?")
    migrate.break_lock(target.conninfo)
    print(f"broke the lock of pid {holder.pid}")


def _warn_edited(target: ctx.Target, project: Project) -> None:
    edited = [s.id for s in migrate.status(target.conninfo, source=project.migrations) if s.edited]
    if edited:
        print(
            f"warning: edited after being applied: {', '.join(edited)} (run codex-db check)",
            file=sys.stderr,
        )
