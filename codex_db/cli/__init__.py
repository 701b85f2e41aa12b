"""The ``codex-db`` command line: one function per subcommand, each returning an exit code.

Each subcommand delegates to a library function (`codex_db.migrate`,
`codex_db.workflow`, `codex_db.checks`, `codex_db.lint`, `codex_db.authschema`),
so tests and scripts can call the same code. Expected errors print one line
with the fix and exit 1 (``--verbose`` adds the traceback); ``status`` exits 3
when migrations are pending.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

from codex_db import _target, migrate, workflow
from codex_db._dsn import display, scrub
from codex_db.cli import _args as args_
from codex_db.cli import _context as ctx
from codex_db.cli import _gen
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import authschema, checks, hazards, lint
from codex_db.workflow.hazards import Hazard

__all__ = ["PENDING", "main"]

#: Exit code of ``codex-db status`` when migrations are pending.
PENDING = 3

_EPILOG = """the workflow:
  edit sql/*.sql             the schema, declared
  codex-db gen --name NAME   regenerate code, write migrations/NNNN.NAME.sql (+ .rollback.sql)
  (review the SQL)           flagged: renames seen as drop + add, enum rebuilds, blocking indexes
  codex-db migrate           apply it
  codex-db check             CI: code fresh, no drift, applied migrations unchanged, vet, lint

the database: --url, else DB_METHOD / DATABASE_URL / DATABASE_URL_LOCAL_PROXY,
else the embedded PostgreSQL. Scratch databases (gen, check, push, mark, gen:auth)
are created on --scratch-url, else CODEX_DB_SCRATCH_URL, else the database's server.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``) and return the exit code."""
    args = _parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except (CodexDBError, psycopg.Error, OSError) as exc:
        return ctx.fail(args, exc)


# -- subcommands ---------------------------------------------------------------------------


def cmd_gen(args: argparse.Namespace) -> int:
    """Write the next migrations when sql/ differs from migrations/, verified; regenerate code."""
    project = ctx.project(args, required=True)
    if args.check:
        return _gen_check(args, project)
    return _gen.run(args, project)


def cmd_gen_auth(args: argparse.Namespace) -> int:
    """Check that the auth tables of sql/ carry what better-auth's core schema needs."""
    project = ctx.project(args)
    problems = authschema.check_sql(ctx.scratch(args), project.sql)
    for line in problems:
        print(f"missing: {line}")
    if problems:
        print(
            f"{len(problems)} problem(s): fix the auth tables in {ctx.rel(project.sql, project)}/"
        )
        return 1
    tables = ", ".join(authschema.CORE_SCHEMA)
    print(f"auth tables ok: {tables} carry every column better-auth's core schema needs")
    return 0


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
        result = workflow.plan(scratch, project)
        if not result.in_sync:
            raise workflow.DriftError(
                "the pending migrations would not build sql/, so nothing was applied"
                " (run `codex-db gen`, or pass --skip-drift-check):\n"
                + workflow.describe_drift(result)
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


def cmd_push(args: argparse.Namespace) -> int:
    """Make a development database match sql/ without writing a migration."""
    target = ctx.target(args)
    if target.production:
        raise ctx.RefusedError(
            "push is for development databases and refuses production"
            f" ({target.method}): write a migration with `codex-db gen` and run `codex-db migrate`"
        )
    project = ctx.project(args)
    statements = workflow.push_plan(target.conninfo, ctx.scratch(args, target), project)
    if not statements:
        print(f"{target.display} already matches sql/")
        return 0
    print(f"to make {target.display} match sql/:\n")
    print("\n\n".join(statements) + "\n")
    _print_hazards(hazards.find(statements))
    ctx.confirm(args, f"apply these {len(statements)} statement(s)?")
    workflow.push(target.conninfo, statements)
    print(f"pushed: {target.display} matches sql/ (no migration recorded)")
    return 0


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


# -- helpers ---------------------------------------------------------------------------------


def _gen_check(args: argparse.Namespace, project: Project) -> int:
    codegen = checks.codegen(project)
    print(f"codegen: {codegen.status}: {codegen.detail}")
    result = workflow.plan(ctx.scratch(args), project)
    if result.in_sync and codegen.status != "failed":
        print("sql/ and migrations/ agree")
        return 0
    if not result.in_sync:
        print(workflow.describe_drift(result), file=sys.stderr)
    return 1


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
    print(
        f"migrations:  {len(statuses) - len(pending)} applied, {len(pending)} pending"
        + (f" ({', '.join(pending)})" if pending else "")
        + (f"; EDITED: {', '.join(edited)}" if edited else "")
    )
    holder = migrate.lock_status(target.conninfo)
    print(f"lock:        {holder.describe() if holder else 'free'}")


def _print_hazards(found: list[Hazard]) -> None:
    if not found:
        return
    print(f"REVIEW ({len(found)} hazard(s)):")
    for hazard in found:
        print(f"  - {hazard.describe()}")
        print(f"      {hazard.statement}")


def cmd_studio(args: argparse.Namespace) -> int:
    """Start the local web GUI (the embedded database is migrated first, as for the runtime)."""
    from codex_db import studio

    target = _target.start(_target.resolve(args.url))
    return studio.launch(
        target,
        host=args.host,
        port=args.port,
        write=args.write,
        open_browser=not args.no_browser,
        force_production=args.force_production,
    )


# -- parser ----------------------------------------------------------------------------------

_COMMANDS: tuple[tuple[str, Callable[[argparse.Namespace], int], args_.Adder, str, str], ...] = (
    (
        "gen",
        cmd_gen,
        args_.gen_args,
        "regenerate code and write the next migration from sql/",
        "codex-db gen --name add_user_nickname\n"
        "  codex-db gen --check      # CI: fail if sql/ has no migration yet",
    ),
    (
        "gen:auth",
        cmd_gen_auth,
        args_.db_scratch,
        "check sql/'s auth tables against better-auth's core schema",
        "codex-db gen:auth",
    ),
    (
        "migrate",
        cmd_migrate,
        args_.migrate_args,
        "apply pending migrations (under yoyo's lock)",
        "codex-db migrate\n  codex-db migrate --dry-run\n  codex-db migrate --break-lock --yes",
    ),
    (
        "rollback",
        cmd_rollback,
        args_.rollback_args,
        "roll back the latest migration(s)",
        "codex-db rollback --yes\n  codex-db rollback --to 0002.content --yes",
    ),
    (
        "status",
        cmd_status,
        args_.db,
        "list applied and pending migrations (exit 3: pending)",
        "codex-db status",
    ),
    (
        "mark",
        cmd_mark,
        args_.db_scratch,
        "baseline an existing database that matches sql/",
        "DATABASE_URL=postgresql://... codex-db mark",
    ),
    (
        "push",
        cmd_push,
        args_.push_args,
        "dev only: make the database match sql/ without a migration",
        "codex-db push --yes",
    ),
    (
        "check",
        cmd_check,
        args_.check_args,
        "CI gate: codegen, drift, edited migrations, sqlc vet, lint",
        "codex-db check\n  codex-db check --skip vet",
    ),
    (
        "lint",
        cmd_lint,
        args_.lint_args,
        "squawk on migrations after the lint baseline",
        "codex-db lint\n  codex-db lint migrations/0004.add_nickname.sql",
    ),
    (
        "doctor",
        cmd_doctor,
        args_.db,
        "show connection method, server, TLS, pooler and migration state",
        "codex-db doctor",
    ),
    (
        "studio",
        cmd_studio,
        args_.studio_args,
        "local web GUI to browse (and with --write, edit) the database",
        "codex-db studio\n  codex-db studio --write --port 5000 --no-browser",
    ),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-db",
        description="Schema, migrations and generated queries of the Codex database.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--project", help="folder holding sql/, migrations/, queries/ (default: .)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, func, add, help_text, example in _COMMANDS:
        aliases = ["ping"] if name == "doctor" else []
        command = sub.add_parser(
            name,
            aliases=aliases,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,  # --force is not --force-production
        )
        add(command)
        command.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        command.set_defaults(command=func, command_name=name)
    return parser
