"""The options of each ``codex-db`` subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from codex_db.workflow import checks

__all__ = [
    "Adder",
    "check_args",
    "db",
    "db_scratch",
    "drop_args",
    "gen_args",
    "lint_args",
    "migrate_args",
    "new_args",
    "project_only",
    "pull_args",
    "push_args",
    "renumber_args",
    "reset_args",
    "rollback_args",
    "seed_args",
    "studio_args",
]


Adder = Callable[[argparse.ArgumentParser], None]


def db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", help="database URL (default: DB_METHOD/DATABASE_URL, else embedded)"
    )


def _scratch_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scratch-url",
        help="server for scratch databases"
        " (default: CODEX_DB_SCRATCH_URL, else the database's server)",
    )


def _yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--force-production", action="store_true", help="allow on a production database"
    )


def gen_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    _scratch_args(parser)
    parser.add_argument(
        "--name", default="change", help="slug of the migration file (default: change)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; fail when code is stale or sql/ has no migration",
    )
    parser.add_argument(
        "--strict-warnings",
        action="store_true",
        help="fail (before writing anything) when the sqlc plugin warns, e.g. a type typed Any",
    )
    parser.add_argument(
        "--rename",
        action="append",
        metavar="TABLE.OLD=NEW",
        help="column OLD of TABLE is now NEW (keeps its data; repeatable)",
    )
    parser.add_argument(
        "--rename-table",
        action="append",
        metavar="OLD=NEW",
        help="table OLD is now NEW, with its rows, constraints and indexes (repeatable)",
    )
    parser.add_argument(
        "--backfill",
        action="append",
        metavar="TABLE.COLUMN=SQL",
        help="the value existing rows get for a new NOT NULL column without a default",
    )
    parser.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="write the migration although it drops a table or a column",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="ask nothing: the flags are the only answers (the default without a terminal)",
    )


def migrate_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    _scratch_args(parser)
    _yes(parser)
    parser.add_argument(
        "--skip-drift-check",
        action="store_true",
        help="apply without first comparing the database with what its migrations built",
    )
    parser.add_argument(
        "--rerun-interrupted",
        action="store_true",
        help="run an interrupted non-transactional migration again from the start",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run pending migrations in a transaction, then roll back",
    )
    parser.add_argument(
        "--break-lock",
        action="store_true",
        help="remove a stale lock left by a killed process first",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=0,
        help="seconds to wait for another migration (default: while it runs)",
    )


def rollback_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    _yes(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--to", metavar="ID", help="roll back every migration applied after ID")
    which.add_argument(
        "--last", type=int, default=1, metavar="N", help="roll back the N latest (default 1)"
    )


def db_scratch(parser: argparse.ArgumentParser) -> None:
    db(parser)
    _scratch_args(parser)


def push_args(parser: argparse.ArgumentParser) -> None:
    db_scratch(parser)
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def check_args(parser: argparse.ArgumentParser) -> None:
    db_scratch(parser)
    parser.add_argument(
        "--skip", action="append", choices=checks.CHECKS, help="skip a check (repeatable)"
    )


def lint_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", help="migration files (default: those after the lint baseline)"
    )
    parser.add_argument(
        "--all", action="store_true", help="lint every migration, ignoring the baseline"
    )


def studio_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; others warn)")
    parser.add_argument("--port", type=int, default=4983, help="port (default 4983; 0: any free)")
    parser.add_argument("--write", action="store_true", help="allow inserting, updating, deleting")
    parser.add_argument("--no-browser", action="store_true", help="print the URL only")
    parser.add_argument(
        "--force-production", action="store_true", help="allow on a production database"
    )
    parser.add_argument(
        "--console-as-superuser",
        action="store_true",
        help="offer the SQL console (plain reads) even where it would run as a superuser",
    )


def new_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="what the migration does (its slug)")
    parser.add_argument(
        "--non-transactional",
        action="store_true",
        help="mark it `-- transactional: false` (CREATE INDEX CONCURRENTLY, ALTER TYPE ...)",
    )


def drop_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    parser.add_argument("id", nargs="?", help="the migration to delete (default: the latest)")


def renumber_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ids", nargs="*", help="the migrations to move (default: those not on --onto)"
    )
    parser.add_argument(
        "--onto",
        default="main",
        help="the git branch the other migrations came from (default: main)",
    )


def project_only(parser: argparse.ArgumentParser) -> None:
    """No options: the command works on the project (``--project``) alone."""


def seed_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    parser.add_argument(
        "--force-production", action="store_true", help="allow on a production database"
    )


def reset_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def pull_args(parser: argparse.ArgumentParser) -> None:
    db(parser)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="delete sql/*.sql first (default: sql/ must be empty)",
    )
