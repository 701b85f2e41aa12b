"""Run the real sqlc binary with this environment's plugin on a golden case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from codex_db.codegen.check import sqlc_binary

BIN = Path(sys.executable).parent
PLUGIN = BIN / "sqlc-gen-codex-db"


def run_sqlc(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sqlc generate`` in *directory*; the cases' ``cmd: sqlc-gen-codex-db`` is found on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sqlc_binary(), *(args or ("generate",))]
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False
    )
