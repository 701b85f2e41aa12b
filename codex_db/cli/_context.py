"""What a ``codex-db`` command works on: the database, the project, the scratch server.

Also the guards every destructive command shares: production refusal and a
confirmation prompt that fails safe without a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from codex_db import _target
from codex_db._dsn import redact
from codex_db._target import Target
from codex_db.errors import CodexDBError
from codex_db.project import Project

__all__ = [
    "Ask",
    "Clock",
    "RefusedError",
    "Target",
    "asker",
    "confirm",
    "fail",
    "project",
    "refuse_production",
    "rel",
    "scratch",
    "target",
]


class Clock:
    """Seconds since the start and since the previous lap."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def lap(self) -> float:
        """Seconds since the previous lap (or the start)."""
        now = time.monotonic()
        elapsed, self.last = now - self.last, now
        return elapsed

    def total(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start


class RefusedError(CodexDBError):
    """A command refused to run (production, no confirmation)."""


def target(args: argparse.Namespace) -> Target:
    """The database of the command (`codex_db._target.resolve`), started if embedded.

    The embedded server is not auto-migrated here: migrating is the commands' job.
    """
    return _started(args)


def _started(args: argparse.Namespace) -> Target:
    return _target.start(_target.resolve(args.url), migrate=False)


def scratch(args: argparse.Namespace, target: Target | None = None) -> str:
    """The server for scratch databases: ``--scratch-url``, ``CODEX_DB_SCRATCH_URL``, the target's.

    Never the production server: there the variable is required.
    """
    url = args.scratch_url or os.environ.get("CODEX_DB_SCRATCH_URL")
    if url:
        return str(url)
    target = target or _started(args)
    if target.production:
        raise RefusedError(
            "refusing to create scratch databases on the production server:"
            " set CODEX_DB_SCRATCH_URL (or --scratch-url) to a development server"
        )
    return target.conninfo


def refuse_production(target: Target, args: argparse.Namespace, what: str) -> None:
    """Raise `RefusedError` on production unless ``--force-production`` was given."""
    if target.production and not args.force_production:
        raise RefusedError(
            f"{what} refused on production ({target.display}):"
            " pass --force-production if you really mean it"
        )


def confirm(args: argparse.Namespace, question: str) -> None:
    """Ask *question*; anything but yes raises `RefusedError`.

    ``--yes`` skips the question. Without a terminal (CI, pipes) the answer is
    no, with a message to pass ``--yes``: a prompt never blocks a pipeline.
    """
    if args.yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise RefusedError("no terminal to confirm on: pass --yes to proceed")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise RefusedError("cancelled: nothing was changed")


#: A yes/no question asked on the terminal.
Ask = Callable[[str], bool]


def asker(args: argparse.Namespace) -> Ask | None:
    """A yes/no question on the terminal, or ``None`` with ``--yes`` or without a terminal.

    Without one, only the command's flags answer (a pipeline never blocks).
    """
    if getattr(args, "yes", False) or not sys.stdin or not sys.stdin.isatty():
        return None

    def ask(question: str) -> bool:
        try:
            answer = input(f"{question} [y/N] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")

    return ask


def project(args: argparse.Namespace, *, required: bool = False) -> Project:
    """``--project``, else the project around the current directory.

    Without one, commands that only apply migrations use the installed package's
    copy; those that read or write the schema (*required*) fail naming the fix.
    """
    if args.project:
        return Project.at(args.project)
    if required:
        return Project.require(command=f"codex-db {args.command_name}")
    return Project.default()


def rel(path: Path, within: Project) -> str:
    """*path* relative to the project root, for messages."""
    return str(path.relative_to(within.root)) if path.is_relative_to(within.root) else str(path)


def fail(args: argparse.Namespace, exc: BaseException) -> int:
    """Print *exc* as one redacted line (after its traceback with ``--verbose``); return 1."""
    if args.verbose:
        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    print(f"codex-db: error: {redact(str(exc)).strip()}", file=sys.stderr)
    return 1
