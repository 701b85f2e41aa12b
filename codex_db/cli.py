"""The ``codex-db`` command line: one function per subcommand, each returning an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from codex_db import migrate
from codex_db._dsn import redact
from codex_db.errors import CodexDBError

__all__ = ["main"]

_EPILOG = """examples:
  codex-db migrate                 apply pending migrations to the configured database
  codex-db status                  list migrations, applied and pending
  DATABASE_URL=postgresql://... codex-db migrate
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``) and return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except CodexDBError as exc:
        if args.verbose:
            raise
        print(f"codex-db: error: {redact(str(exc))}", file=sys.stderr)
        return 1


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations and print each one applied."""
    url = _database_url(args)
    print(f"migrating {redact(url)}")
    applied = migrate.apply(url, progress=lambda migration_id: print(f"  applied {migration_id}"))
    print(f"{len(applied)} migration(s) applied" if applied else "nothing to apply: up to date")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print every migration with its state; exit 1 when any is pending."""
    statuses = migrate.status(_database_url(args))
    for item in statuses:
        when = item.applied_at.isoformat(sep=" ", timespec="seconds") if item.applied_at else ""
        print(f"{'applied' if item.applied_at else 'pending':8} {item.id:32} {when}")
    return 1 if any(item.applied_at is None for item in statuses) else 0


def _database_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from codex_db.server import start_embedded

    return start_embedded().url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-db",
        description="Schema, migrations and generated queries of the Codex database.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, func, help_text, example in (
        ("migrate", cmd_migrate, "apply pending migrations", "codex-db migrate"),
        ("status", cmd_status, "list applied and pending migrations", "codex-db status"),
    ):
        command = sub.add_parser(name, help=help_text, epilog=f"example:\n  {example}")
        command.add_argument(
            "--url", help="database URL (default: DATABASE_URL, else the embedded server)"
        )
        command.set_defaults(command=func)
    return parser
