"""``codex-db gen``: the declared changes from the flags, the terminal's questions, the review."""

from __future__ import annotations

import argparse
import sys

from codex_db import workflow
from codex_db.cli import _context as ctx
from codex_db.errors import CodexDBError
from codex_db.project import Project
from codex_db.workflow import Generated, Intent, NeedsDecisionError, checks

__all__ = ["cmd_gen", "intent", "run"]


def cmd_gen(args: argparse.Namespace) -> int:
    """Write the next migrations when sql/ differs from migrations/, verified; regenerate code."""
    project = ctx.project(args, required=True)
    if args.check:
        return _check(args, project)
    if args.strict_warnings and _warned(project):
        return 1
    return run(args, project)


def _warned(project: Project) -> bool:
    """Print the plugin's warnings before anything is written; True when there are some.

    A failing sqlc is left to the generation itself, which reports it.
    """
    try:
        warnings = checks.codegen_warnings(project)
    except CodexDBError:
        return False
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if warnings:
        print(
            "--strict-warnings: nothing was written; fix the warnings (an override, a cast)"
            " or drop the flag",
            file=sys.stderr,
        )
    return bool(warnings)


def _check(args: argparse.Namespace, project: Project) -> int:
    codegen = checks.codegen(project, strict_warnings=args.strict_warnings)
    print(f"codegen: {codegen.status}: {codegen.detail}")
    result = workflow.plan(ctx.scratch(args), project)
    if result.in_sync and codegen.status != "failed":
        print("sql/ and migrations/ agree")
        return 0
    if not result.in_sync:
        print(workflow.describe_drift(result), file=sys.stderr)
    return 1


def intent(args: argparse.Namespace) -> Intent:
    """The renames, backfills and ``--allow-data-loss`` given on the command line."""
    return Intent(
        columns=tuple(workflow.parse_column_rename(r) for r in args.rename or ()),
        tables=tuple(workflow.parse_table_rename(r) for r in args.rename_table or ()),
        backfills=tuple(workflow.parse_backfill(b) for b in args.backfill or ()),
        allow_data_loss=args.allow_data_loss,
    )


def run(args: argparse.Namespace, project: Project) -> int:
    """Generate, asking on a terminal what the flags do not say; print the review."""
    ask = ctx.asker(args)
    declared = intent(args)
    scratch = ctx.scratch(args)
    try:
        result = _generate(scratch, project, args.name, declared, ask)
    except NeedsDecisionError as exc:
        if exc.decision != "data-loss" or ask is None or not ask(f"{exc}\naccept the data loss?"):
            raise
        accepted = Intent(
            columns=declared.columns,
            tables=declared.tables,
            backfills=declared.backfills,
            allow_data_loss=True,
        )
        result = _generate(scratch, project, args.name, accepted, None)
    if result is None:
        _regenerate(project)
        print("sql/ and migrations/ agree: no migration needed")
        return 0
    _report(result, project)
    return 0


def _generate(
    scratch: str, project: Project, name: str, declared: Intent, ask: ctx.Ask | None
) -> Generated | None:
    return workflow.generate(
        scratch,
        project,
        name=name,
        intent=declared,
        ask=ask,
        progress=lambda line: print(f"  {line}", flush=True),
        regenerate=_regenerate,
    )


def _regenerate(project: Project) -> None:
    warnings = workflow.regenerate_code(project)
    if warnings is None:
        print(f"code generation skipped: no sqlc.yaml in {project.root}")
        return
    print("regenerated the Python code (sqlc generate)")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _report(result: Generated, project: Project) -> None:
    for migration in result.migrations:
        kind = "transactional" if migration.transactional else "non-transactional"
        print(
            f"\nwrote {ctx.rel(migration.path, project)} (+ .rollback.sql):"
            f" {migration.role}, {kind}\n"
        )
        print(migration.path.read_text())
    if result.reviews:
        print(f"REVIEW ({len(result.reviews)}):")
        for review in result.reviews:
            print(f"  - {review.describe()}")
    for rewrite in result.rewrites:
        if "ALTER COLUMN" in rewrite.statement.upper() or "DEFAULT" in rewrite.statement.upper():
            verdict = "REWRITES" if rewrite.rewrites else "does not rewrite"
            print(f"  - measured: {verdict} {rewrite.table}: {rewrite.statement}")
    for note in result.notes:
        print(f"note: {note}")
    checks = "lint, apply, roll back each, apply again, sqlc vet"
    print(f"\nverified on a scratch database with sample rows ({result.sample}): {checks}")
    print("review the SQL, then run: codex-db migrate", file=sys.stdout)
