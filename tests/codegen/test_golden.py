"""Golden end-to-end cases: the real sqlc runs the plugin; output is compared byte for byte.

Each ``cases/<case>/`` holds ``schema.sql``, ``queries.sql`` and ``sqlc.yaml`` (its
``cmd: sqlc-gen-codex-db`` is found on PATH), plus either ``expected/`` (the generated
package, importable as ``tests.codegen.cases.<case>.expected``) or ``stderr.txt`` for
an expected failure. Rewrite them with ``CODEX_DB_UPDATE_GOLDEN=1 pytest tests/codegen``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.codegen._sqlc import PLUGIN, run_sqlc

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "sqlc.yaml").exists())
UPDATE = os.environ.get("CODEX_DB_UPDATE_GOLDEN") == "1"
REPO = Path(__file__).parents[2]


def _copy_inputs(case: Path, work: Path) -> None:
    ignore = shutil.ignore_patterns("expected", "stderr.txt", "__init__.py", "__pycache__")
    shutil.copytree(case, work, ignore=ignore)


def _read_tree(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def _check_failure(case: Path, work: Path, proc: subprocess.CompletedProcess[str]) -> None:
    stderr = proc.stderr.replace(str(work), "<case>")
    expected = case / "stderr.txt"
    if UPDATE:
        expected.write_text(stderr)
        return
    assert proc.returncode != 0, "sqlc succeeded but stderr.txt expects a failure"
    assert stderr == expected.read_text()


def _check_output(case: Path, work: Path) -> None:
    produced = _read_tree(work / "expected")
    if UPDATE:
        shutil.rmtree(case / "expected", ignore_errors=True)
        shutil.copytree(work / "expected", case / "expected")
        return
    committed = _read_tree(case / "expected")
    assert sorted(produced) == sorted(committed), (
        "generated file names differ (stale or orphaned files)"
    )
    for name, data in produced.items():
        assert data.decode() == committed[name].decode(), f"{case.name}/expected/{name} differs"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path, tmp_path: Path) -> None:
    """sqlc + the plugin reproduce the case's expected files (or its expected error) exactly."""
    work = tmp_path / case.name
    _copy_inputs(case, work)
    proc = run_sqlc(work)
    if (case / "stderr.txt").exists() or (UPDATE and proc.returncode != 0):
        _check_failure(case, work, proc)
        return
    assert proc.returncode == 0, proc.stderr
    _check_output(case, work)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    """Two runs of the plugin on the same input produce byte-identical files."""
    case = CASES_DIR / "types"
    outputs = []
    for run in ("a", "b"):
        _copy_inputs(case, tmp_path / run)
        assert run_sqlc(tmp_path / run).returncode == 0
        outputs.append(_read_tree(tmp_path / run / "expected"))
    assert outputs[0] == outputs[1]


MODULES = sorted(
    f"tests.codegen.cases.{c.name}.expected.{p.stem}"
    for c in CASES
    for p in (c / "expected").glob("*.py")
) + sorted(f"codex_db.generated.{p.stem}" for p in (REPO / "codex_db" / "generated").glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=[m.removeprefix("tests.codegen.") for m in MODULES])
def test_generated_module_imports(module: str) -> None:
    """Every generated module (cases and the project's) imports; its annotations evaluate.

    mypy reads annotations without evaluating them, so it misses one that raises, such
    as ``None | None``; msgspec and ``inspect`` evaluate them.
    """
    imported = importlib.import_module(module)
    for value in vars(imported).values():
        if callable(value) and getattr(value, "__module__", "") == module:
            inspect.get_annotations(value, eval_str=True)


def _generated_dirs() -> list[str]:
    """Every golden case's expected package, plus the project's own generated code."""
    dirs = [c / "expected" for c in CASES if (c / "expected").is_dir()]
    return [str(d) for d in [*dirs, REPO / "codex_db" / "generated"] if d.is_dir()]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


# The cases stand for application code: checked without any per-file ignores, under which
# the noqa comments the generator writes would be unused (RUF100).
_AS_APPLICATION_CODE = ("--config", "lint.per-file-ignores = {}")


def test_generated_code_passes_ruff() -> None:
    """Generated code is ruff-clean and ruff-formatted under the project's configuration."""
    check = _run(sys.executable, "-m", "ruff", "check", *_AS_APPLICATION_CODE, *_generated_dirs())
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run(sys.executable, "-m", "ruff", "format", "--check", "--diff", *_generated_dirs())
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_generated_code_passes_mypy_strict() -> None:
    """Generated code type-checks under ``mypy --strict``."""
    proc = _run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", *_generated_dirs())
    assert proc.returncode == 0, proc.stdout


def test_plugin_console_script_is_installed() -> None:
    """The console script sqlc runs exists beside the interpreter."""
    assert PLUGIN.exists()
