"""Imports point down: the runtime never imports the tooling, the plugin never the runtime.

The runtime is what an application imports (the flat modules of ``codex_db``);
the tooling is each subsystem package (`TOOLING`). The one edge from the
runtime to the tooling is the embedded default's auto-migrate, in the resolver
(`ALLOWED`): it runs only when no database is configured.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import codex_db

PACKAGE = Path(codex_db.__file__).parent
TOOLING = (
    "codex_db.migrate",
    "codex_db.workflow",
    "codex_db.cli",
    "codex_db.studio",
    "codex_db.codegen",
)
#: Not the runtime: test helpers (they migrate test databases) and ``python -m codex_db``.
NOT_RUNTIME = ("codex_db.testing", "codex_db.__main__")
#: (importing module, imported module): the runtime's only way into the tooling.
ALLOWED = {("codex_db._target", "codex_db.migrate")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every codex_db module *path* imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.startswith("codex_db")}


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _runtime_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.glob("*.py")) if not _in(_module_name(p), NOT_RUNTIME)]


def test_the_runtime_is_flat_and_found() -> None:
    """The walk sees the runtime modules it is meant to guard (a typo would empty it)."""
    names = {_module_name(p) for p in _runtime_modules()}
    assert {
        "codex_db.client",
        "codex_db._pool_async",
        "codex_db.config",
        "codex_db._target",
    } <= names


@pytest.mark.parametrize("path", _runtime_modules(), ids=_module_name)
def test_runtime_modules_import_no_tooling(path: Path) -> None:
    """No runtime module imports a tooling package (besides the one allowed edge)."""
    module = _module_name(path)
    bad = sorted(
        name
        for name in _imports(path)
        if _in(name, TOOLING) and (module, _top(name)) not in ALLOWED
    )
    assert bad == [], f"{module} imports tooling: {bad}"


def test_generated_code_imports_only_the_runtime() -> None:
    """Generated modules import codex_db.dbtx and each other, nothing of the tooling."""
    for path in sorted((PACKAGE / "generated").glob("*.py")):
        bad = sorted(name for name in _imports(path) if _in(name, TOOLING))
        assert bad == [], f"{path.name} imports tooling: {bad}"


def _top(name: str) -> str:
    for package in TOOLING:
        if _in(name, (package,)):
            return package
    return name


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))


def test_importing_the_clients_loads_no_tooling() -> None:
    """`from codex_db import db_http, adb_http` loads neither yoyo nor any tooling package."""
    loaded = _loaded_after("from codex_db import db_http, adb_http, Settings, errors")
    assert "codex_db.client" in loaded
    assert [m for m in loaded if _in(m, (*TOOLING, "yoyo"))] == []


def test_the_plugin_loads_neither_psycopg_nor_the_clients() -> None:
    """What sqlc runs for every generate stays light: no psycopg, psycopg_pool or clients."""
    loaded = _loaded_after("import codex_db.codegen.__main__")
    heavy = [m for m in loaded if _in(m, ("psycopg", "psycopg_pool", "codex_db.client", "yoyo"))]
    assert heavy == []


def test_no_environment_variable_is_read_at_import() -> None:
    """A bad CODEX_DB_ASYNC_WAIT does not break importing the package or a CLI command."""
    env = {"CODEX_DB_ASYNC_WAIT": "bogus", "PATH": "/usr/bin:/bin"}
    code = "import codex_db, codex_db.client_async, codex_db.cli; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
