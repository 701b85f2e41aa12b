"""The ``codex-db`` command line: one function per subcommand, each returning an exit code.

Each subcommand (in ``_gen``, ``_migrations``, ``_checks``, ``_dev``) delegates
to a library function (`codex_db.migrate`, `codex_db.workflow`), so tests and
scripts can call the same code. Expected errors print one line
with the fix and exit 1 (``--verbose`` adds the traceback); ``status`` exits 3
when migrations are pending.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import psycopg

from codex_db.cli import _args as args_
from codex_db.cli import _context as ctx
from codex_db.cli._checks import cmd_check, cmd_doctor, cmd_lint
from codex_db.cli._dev import (
    cmd_gen_auth,
    cmd_pull,
    cmd_push,
    cmd_reset,
    cmd_seed,
    cmd_studio,
)
from codex_db.cli._gen import cmd_gen
from codex_db.cli._history import cmd_drop, cmd_migrations_path, cmd_new, cmd_renumber
from codex_db.cli._migrations import PENDING, cmd_mark, cmd_migrate, cmd_rollback, cmd_status
from codex_db.errors import CodexDBError

__all__ = ["PENDING", "main"]

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
        "new",
        cmd_new,
        args_.new_args,
        "write an empty migration pair for SQL written by hand (or a data migration)",
        "codex-db new --name backfill_slugs\n"
        "  codex-db new --name concurrent_index --non-transactional",
    ),
    (
        "drop",
        cmd_drop,
        args_.drop_args,
        "delete the latest (or named) migration, unless the database applied it",
        "codex-db drop\n  codex-db drop 0007.add_nickname",
    ),
    (
        "renumber",
        cmd_renumber,
        args_.renumber_args,
        "move this branch's migrations after the ones merged from another branch",
        "codex-db renumber --onto main\n  codex-db renumber 0007.add_nickname",
    ),
    (
        "migrations-path",
        cmd_migrations_path,
        args_.project_only,
        "print the migrations folder (for `yoyo apply` in CI)",
        'yoyo apply --batch --database "postgresql+psycopg://..." "$(codex-db migrations-path)"',
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
        "pull",
        cmd_pull,
        args_.pull_args,
        "write sql/ from an existing database (adopt it: pull, gen --check, mark)",
        "DATABASE_URL=postgresql://... codex-db pull\n"
        "  codex-db pull --url postgresql://... --replace",
    ),
    (
        "seed",
        cmd_seed,
        args_.seed_args,
        "dev: run the project's seed files (seed/*.sql, idempotent) on a migrated database",
        "codex-db seed",
    ),
    (
        "reset",
        cmd_reset,
        args_.reset_args,
        "dev: drop and recreate the database, migrate it and seed it (never production)",
        "codex-db reset --yes",
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


class _VersionAction(argparse.Action):
    """``--version``: the package's version and sqlc's, worked out only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(_version())
        parser.exit()


#: Other spellings: Drizzle Kit's ``generate``, and ``ping``.
_ALIASES = {"gen": ["generate"], "doctor": ["ping"]}


def _version() -> str:
    from importlib.metadata import version

    from codex_db.codegen.check import sqlc_version

    return f"codex-db {version('codex-db')} (sqlc {sqlc_version() or 'not installed'})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-db",
        description="Schema, migrations and generated queries of the Codex database.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--project", help="folder holding sql/, migrations/, queries/ (default: .)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, func, add, help_text, example in _COMMANDS:
        aliases = _ALIASES.get(name, [])
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
