"""Migration safety lint: squawk on the migrations newer than the lint baseline.

Migrations up to ``lint_baseline`` (the ``[codex-db]`` table of the project's
``.squawk.toml``) were reviewed before the lint existed; every later one is
linted with that configuration. Each ``-- squawk-ignore`` comment in a
migration must say why, after `` -- ``::

    -- squawk-ignore require-concurrent-index-creation -- table has 20 rows
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec

from codex_db.errors import CodexDBError
from codex_db.project import Project

__all__ = ["LintError", "LintReport", "LintWarning", "baseline", "files_to_lint", "lint", "squawk"]

_IGNORE = re.compile(r"--\s*squawk-ignore(?:-file)?\b(?P<rest>.*)$")
_NON_TRANSACTIONAL = re.compile(r"^\s*--\s*transactional\s*:\s*(false|no|off)\b", re.I | re.M)
_INSTALL_HINT = "install it: pip install 'codex-db[tools]' (squawk-cli)"


class LintError(CodexDBError):
    """squawk could not run (missing binary, bad configuration)."""


class LintWarning(msgspec.Struct, frozen=True):
    """One finding, at a 1-based line of a migration file."""

    path: Path
    line: int
    column: int
    rule: str
    message: str

    def describe(self, root: Path | None = None) -> str:
        """``file:line:column: rule: message``, the path relative to *root*."""
        shown = (
            self.path.relative_to(root) if root and self.path.is_relative_to(root) else self.path
        )
        return f"{shown}:{self.line}:{self.column}: {self.rule}: {self.message}"


class LintReport(msgspec.Struct, frozen=True):
    """The files linted, squawk's warnings, and ignore comments without a reason."""

    files: list[Path]
    warnings: list[LintWarning]

    @property
    def ok(self) -> bool:
        """True when there is nothing to fix."""
        return not self.warnings


def squawk() -> Path:
    """The squawk binary of this environment (next to the Python running codex-db)."""
    local = Path(sys.executable).parent / "squawk"
    found = local if local.is_file() else shutil.which("squawk")
    if not found:
        raise LintError(f"squawk is not installed: {_INSTALL_HINT}")
    return Path(found)


def baseline(project: Project) -> str | None:
    """The ``lint_baseline`` migration id of the project's ``.squawk.toml`` (``None``: lint all)."""
    config = project.squawk_config
    if not config.is_file():
        return None
    try:
        data = tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise LintError(f"{config} is not valid TOML: {exc}") from exc
    value = data.get("codex-db", {}).get("lint_baseline")
    return str(value) if value else None


def files_to_lint(project: Project, *, everything: bool = False) -> list[Path]:
    """The forward migrations after the baseline (all of them with *everything*)."""
    files = project.migration_files()
    mark = None if everything else baseline(project)
    if mark is None:
        return files
    ids = [p.name.removesuffix(".sql") for p in files]
    if mark not in ids:
        raise LintError(
            f"lint_baseline {mark!r} in {project.squawk_config} is not a migration"
            f" (known: {', '.join(ids) or 'none'})"
        )
    return files[ids.index(mark) + 1 :]


def lint(
    project: Project, paths: list[Path] | None = None, *, everything: bool = False
) -> LintReport:
    """Run squawk on *paths* (default: `files_to_lint()`) and check ignore comments."""
    files = [p.resolve() for p in paths] if paths else files_to_lint(project, everything=everything)
    files = [p for p in files if not p.name.endswith(".rollback.sql")]
    if not files:
        return LintReport([], [])
    transactional = [p for p in files if _transactional(p)]
    found = _run_squawk(project, transactional, in_transaction=True)
    found += _run_squawk(
        project, [p for p in files if p not in transactional], in_transaction=False
    )
    for path in files:
        found += _unexplained_ignores(path)
    return LintReport(files, sorted(found, key=lambda w: (str(w.path), w.line, w.rule)))


def _transactional(path: Path) -> bool:
    return not _NON_TRANSACTIONAL.search(path.read_text())


def _run_squawk(project: Project, files: list[Path], *, in_transaction: bool) -> list[LintWarning]:
    if not files:
        return []
    command = [str(squawk()), "--reporter", "json", "--no-error-on-unmatched-pattern"]
    # yoyo runs a `-- transactional: false` migration statement by statement, in autocommit.
    command.append("--assume-in-transaction" if in_transaction else "--no-assume-in-transaction")
    if project.squawk_config.is_file():
        command += ["-c", str(project.squawk_config)]
    done = subprocess.run(  # noqa: S603 - our own binary and file list
        [*command, *map(str, files)], capture_output=True, text=True, cwd=project.root, check=False
    )
    if done.returncode not in (0, 1):
        raise LintError(f"squawk failed (exit {done.returncode}): {done.stderr.strip()}")
    try:
        rows = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise LintError(f"squawk printed no JSON: {done.stdout[:200]} {done.stderr[:200]}") from exc
    return [_warning(project.root, row) for row in rows]


def _warning(root: Path, row: dict[str, object]) -> LintWarning:
    path = Path(str(row["file"]))
    # squawk's line numbers are 0-based; editors and humans count from 1.
    return LintWarning(
        path=path if path.is_absolute() else root / path,
        line=int(str(row["line"])) + 1,
        column=int(str(row["column"])) + 1,
        rule=str(row["rule_name"]),
        message=str(row["message"]),
    )


def _unexplained_ignores(path: Path) -> list[LintWarning]:
    found: list[LintWarning] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _IGNORE.search(line)
        if match and not _reason(match["rest"]):
            message = "squawk-ignore without a reason: append ` -- <why this is safe>`"
            found.append(LintWarning(path, number, match.start() + 1, "ignore-reason", message))
    return found


def _reason(rest: str) -> str:
    _, sep, reason = rest.partition(" -- ")
    return reason.strip() if sep else ""
