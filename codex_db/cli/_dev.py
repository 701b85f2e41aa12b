"""Development commands: push, seed, reset, gen:auth, studio."""

from __future__ import annotations

import argparse

from codex_db import _target, workflow
from codex_db.cli import _context as ctx
from codex_db.workflow import authschema, hazards, pull, seed
from codex_db.workflow.hazards import Hazard

__all__ = ["cmd_gen_auth", "cmd_pull", "cmd_push", "cmd_reset", "cmd_seed", "cmd_studio"]


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
        console_superuser=args.console_as_superuser,
    )


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


def cmd_seed(args: argparse.Namespace) -> int:
    """Run the project's seed files (seed/*.sql) on a migrated development database."""
    target = ctx.target(args)
    ctx.refuse_production(target, args, "seed")
    project = ctx.project(args)
    files = seed.seed(target.conninfo, project)
    for path in files:
        print(f"  ran {ctx.rel(path, project)}")
    print(
        f"seeded {target.display} with {len(files)} file(s)"
        if files
        else f"nothing to seed: no {ctx.rel(project.seeds, project)}/*.sql"
    )
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """Drop and recreate a development database, migrate it and seed it (never production)."""
    target = ctx.target(args)
    if target.production:
        raise ctx.RefusedError(
            f"reset refuses production ({target.display}), and takes no --force-production:"
            " it deletes every row"
        )
    project = ctx.project(args)
    ctx.confirm(args, f"drop and recreate {target.display} (every row is lost)?")
    applied, files = seed.reset(target.conninfo, project)
    _target.release_migrations(target)  # up to date: the clients may migrate it again
    print(f"recreated {target.display}: {len(applied)} migration(s) applied,")
    print(f"  {len(files)} seed file(s) run: {', '.join(p.name for p in files) or 'none'}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    """Write sql/ from an existing database (to adopt it: pull, gen --check, mark)."""
    project = ctx.project(args, required=True)
    target = ctx.target(args)
    pulled = pull.pull(target.conninfo, project, replace=args.replace)
    for path in pulled.files:
        print(f"wrote {ctx.rel(path, project)}")
    held = ", ".join(f"{n} {kind}" for kind, n in pulled.counts.items() if n)
    print(f"pulled {target.display}: {held}")
    print("next: codex-db gen --check (do migrations/ build it?), then codex-db mark")
    return 0
