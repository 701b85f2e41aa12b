"""The commands that check without changing anything: check, lint, doctor."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from codex_db import migrate
from codex_db._dsn import display, scrub
from codex_db.cli import _context as ctx
from codex_db.errors import CodexDBError
from codex_db.workflow import checks, lint

__all__ = ["cmd_check", "cmd_doctor", "cmd_lint"]


def cmd_check(args: argparse.Namespace) -> int:
    """Run every CI check; exit 1 when any fails."""
    project = ctx.project(args, required=True)
    target = ctx.target(args)
    outcomes = checks.run(
        target.conninfo, ctx.scratch(args, target), project, skip=frozenset(args.skip or ())
    )
    for outcome in outcomes:
        lines = outcome.detail.splitlines() or [""]
        print(f"{outcome.status:8} {outcome.name:8} {lines[0]}")
        for line in lines[1:]:
            print(f"{'':18}{line}")
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        print(f"check failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """Run squawk on the migrations newer than the lint baseline."""
    project = ctx.project(args, required=True)
    report = lint.lint(project, [Path(p) for p in args.files] or None, everything=args.all)
    if not report.files:
        print(
            f"nothing to lint: no migration after lint_baseline {lint.baseline(project)!r}"
            " (--all lints every one)"
        )
        return 0
    for warning in report.warnings:
        print(warning.describe(project.root))
    names = ", ".join(p.name for p in report.files)
    if report.warnings:
        print(
            f"{len(report.warnings)} warning(s) in {names}: fix them, or add"
            " `-- squawk-ignore <rule> -- <reason>` above the statement",
            file=sys.stderr,
        )
        return 1
    print(f"linted {names}: no warnings")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the connection setup, server facts and migration state."""
    target = ctx.target(args)
    direct = target.direct
    print(f"method:      {target.method}{' (production)' if target.production else ''}")
    print(f"url:         {target.display} (from {target.source})")
    print(
        f"pooler:      {target.pooler}"
        + (f" (migrations use {display(direct)})" if direct != target.conninfo else "")
    )
    ok = _doctor_server(target)
    if ok:
        _doctor_migrations(args, target)
    return 0 if ok else 1


def _doctor_server(target: ctx.Target) -> bool:
    from codex_db.client import Database, test_db_connection

    try:
        test_db_connection(Database.from_url(target.conninfo))
        with psycopg.connect(target.conninfo, connect_timeout=10) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            ssl = conn.execute(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
    except (CodexDBError, psycopg.Error) as exc:
        print(f"connection:  FAILED: {scrub(str(exc), target.conninfo).strip()}")
        return False
    print("connection:  ok (test_db_connection)")
    print(f"server:      PostgreSQL {version[0] if version else '?'}")
    print(f"tls:         {ssl[1] if ssl and ssl[0] else 'off'}")
    return True


def _doctor_migrations(args: argparse.Namespace, target: ctx.Target) -> None:
    statuses = migrate.status(target.conninfo, source=ctx.project(args).migrations)
    pending = [s.id for s in statuses if s.applied_at is None]
    edited = [s.id for s in statuses if s.edited]
    applied = len(statuses) - len(pending)
    state = (
        f"{len(pending)} pending (run codex-db migrate): {', '.join(pending)}; {applied} applied"
        if pending
        else f"{applied} applied, 0 pending"
    )
    print(f"migrations:  {state}" + (f"; EDITED: {', '.join(edited)}" if edited else ""))
    holder = migrate.lock_status(target.conninfo)
    print(f"lock:        {holder.describe() if holder else 'free'}")
