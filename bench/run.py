"""The command line: set up the database, run the workloads in interleaved rounds, report.

Each round runs every peer of a workload once, in an order rotated from round
to round, on the same arguments; the statistics are over rounds. One warm-up
batch per peer (prepares statements, fills caches) is not counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from bench import data, pinning
from bench.core import Context, Runner
from bench.peers.pgbench import find_pgbench
from bench.report import PeerStats, WorkloadResult, render, write
from bench.workloads import WORKLOADS, Workload, select

__all__ = ["main"]

_RESULTS = Path(__file__).parent / "results"
_SCALE = {"full": (10_000, 1_000_000), "smoke": (500, 2_000)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark codex-db's generated code against its peers, in one run.",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 2 rounds (CI)")
    parser.add_argument("--pin", action="store_true", help="pin client and server to one core")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15, smoke 2)")
    parser.add_argument(
        "--workload",
        action="append",
        metavar="NAME",
        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--rows", type=int, help="content rows to load (default 100000)")
    parser.add_argument("--out", type=Path, default=_RESULTS, help="results directory")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting for the benchmark databases (ALTER DATABASE ... SET),"
        " e.g. synchronous_commit=off; shown in the report header",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="use a throwaway embedded server even when DATABASE_URL is set",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit code."""
    args = _parser().parse_args(argv)
    workloads = select(args.workload)
    rounds = args.rounds or (2 if args.smoke else 15)
    rows = args.rows or (1_000 if args.smoke else 100_000)
    started = datetime.now(UTC)
    server, server_url = _server(args.embedded)
    created: list[str] = []
    try:
        settings = dict(_setting(s) for s in args.setting)
        ctx = _context(server_url, rows, args.smoke, workloads, created, settings)
        core = _pin(args.pin, server)
        results = [_run_workload(w, ctx, rounds, args.smoke) for w in workloads]
        header = _header(ctx, started, rounds, rows, core, args)
        text = render(results, header)
        print(text)
        stem = started.strftime("%Y-%m-%dT%H%M%SZ") + ("-smoke" if args.smoke else "")
        stem += "-pinned" if args.pin else ""
        paths = write(args.out, stem, text, results, _meta(ctx, rounds, rows, core, args))
        print(f"written: {', '.join(str(p) for p in paths)}", file=sys.stderr)
        failed = [s.name for r in results for s in r.peers.values() if s.error]
        return 1 if failed and args.smoke else 0
    finally:
        _teardown(server, server_url, created)


def _server(force_embedded: bool) -> tuple[Any, str]:
    url = os.environ.get("DATABASE_URL")
    if url and not force_embedded:
        return None, url
    from codex_db.server import start_embedded

    server = start_embedded(temporary=True)
    return server, server.url


def _teardown(server: Any, server_url: str, created: list[str]) -> None:
    if server is not None:
        server.stop()
        return
    for name in created:
        data.drop_database(server_url, name)


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--setting expects NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _context(
    server_url: str,
    rows: int,
    smoke: bool,
    workloads: list[Workload],
    created: list[str],
    settings: dict[str, str],
) -> Context:
    _log(f"loading {rows:,} content rows")
    name = f"codex_bench_{os.getpid()}"
    template = f"{name}_template"
    created.append(template)
    data.create_template(server_url, template)
    created.append(name)
    url, ids, cursors = data.prepare(server_url, name, rows, settings, template)
    ctx = Context(url, ids, data.slugs_of(rows), cursors, find_pgbench(), smoke)
    if any(w.needs_scale for w in workloads):
        for label, size in zip(("10k", "1M"), _SCALE["smoke" if smoke else "full"], strict=True):
            _log(f"loading {size:,} rows for the scale workloads ({label})")
            created.append(f"{name}_{label.lower()}")
            s_url, s_ids, s_cursors = data.prepare(
                server_url, created[-1], size, settings, template
            )
            ctx.scale[label] = Context(s_url, s_ids, data.slugs_of(size), s_cursors, None, smoke)
    return ctx


def _pin(pin: bool, server: Any) -> int | None:
    if not pin:
        return None
    core = pinning.pick_core()
    pinning.pin_client(core)
    if server is not None:
        pids = pinning.pin_server(server.data_dir, core)
        _log(f"pinned the client and {len(pids)} server processes to core {core}")
    else:
        _log(f"pinned the client to core {core}; DATABASE_URL's server is not pinned")
    return core


def _open(workload: Workload, ctx: Context) -> dict[str, Runner | str]:
    runners: dict[str, Runner | str] = {}
    for name, factory in workload.peers.items():
        try:
            runners[name] = factory(ctx)
        except Exception as exc:  # a missing peer must not hide the others
            runners[name] = f"{type(exc).__name__}: {exc}"
            _log(f"{workload.name}: {name} unavailable: {runners[name]}")
    return runners


def _run_workload(workload: Workload, ctx: Context, rounds: int, smoke: bool) -> WorkloadResult:
    batch = workload.smoke_batch if smoke else workload.batch
    rounds = min(rounds, workload.max_rounds or rounds)
    _log(f"{workload.name}: {len(workload.peers)} peers x {rounds} rounds")
    rng = random.Random(hash(workload.name) & 0xFFFF)  # noqa: S311 - picks rows, not secrets
    runners = _open(workload, ctx)
    stats = {name: PeerStats(name) for name in runners}
    for name, runner in runners.items():
        if isinstance(runner, str):
            stats[name].error = runner
    live = [n for n, r in runners.items() if not isinstance(r, str)]
    admin = psycopg.connect(ctx.url, autocommit=True)
    try:
        _round(workload, ctx, runners, live, stats, rng, batch, admin, record=False)
        for number in range(rounds):
            order = live[number % len(live) :] + live[: number % len(live)] if live else []
            _round(workload, ctx, runners, order, stats, rng, batch, admin, record=True)
    finally:
        admin.close()
        for runner in runners.values():
            if not isinstance(runner, str):
                runner.close()
    return WorkloadResult(workload, batch, stats)


def _round(
    workload: Workload,
    ctx: Context,
    runners: dict[str, Runner | str],
    order: list[str],
    stats: dict[str, PeerStats],
    rng: random.Random,
    batch: int,
    admin: psycopg.Connection[Any],
    record: bool,
) -> None:
    args = workload.args(ctx, rng, batch)
    for name in order:
        runner = runners[name]
        if isinstance(runner, str) or stats[name].error:
            continue
        try:
            cpu_before = _client_cpu()
            value = runner.batch(args)
            cpu = _client_cpu() - cpu_before
        except Exception as exc:
            stats[name].error = f"{type(exc).__name__}: {exc}"
            _log(f"{workload.name}: {name} failed: {stats[name].error}")
            continue
        finally:
            _clean(workload, admin)
        if record:
            stats[name].samples.append(value if workload.unit == "bytes" else value / len(args))
            stats[name].cpu.append(cpu / len(args))


def _client_cpu() -> float:
    """CPU seconds used by this process and its finished children (pgbench), all threads."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _clean(workload: Workload, admin: psycopg.Connection[Any]) -> None:
    if workload.cleanup:
        admin.execute(workload.cleanup.encode())
    if workload.vacuum:
        admin.execute("VACUUM content")


def _versions() -> dict[str, str]:
    names = ("psycopg", "psycopg-binary", "msgspec", "asyncpg", "uvloop", "SQLAlchemy")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meta(ctx: Context, rounds: int, rows: int, core: int | None, args: Any) -> dict[str, Any]:
    with psycopg.connect(ctx.url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "machine": f"{_cpu_model()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "postgres": row[0] if row else "?",
        "versions": _versions(),
        "rounds": rounds,
        "rows": rows,
        "pinned_core": core,
        "smoke": bool(args.smoke),
        "settings": list(args.setting),
        "server": "DATABASE_URL"
        if os.environ.get("DATABASE_URL") and not args.embedded
        else "embedded (unix socket)",
    }


def _header(
    ctx: Context, started: datetime, rounds: int, rows: int, core: int | None, args: Any
) -> list[str]:
    meta = _meta(ctx, rounds, rows, core, args)
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    pinned = f"client and server pinned to core {core}" if core is not None else "not pinned"
    if args.setting:
        pinned += f"; database settings: {', '.join(args.setting)}"
    return [
        f"## codex-db benchmark, {started:%Y-%m-%d %H:%M} UTC{' (smoke)' if args.smoke else ''}",
        "",
        f"- machine: {meta['machine']}; {pinned}",
        f"- PostgreSQL {meta['postgres']} ({meta['server']}); Python {meta['python']}; {versions}",
        f"- {rows:,} content rows; {rounds} interleaved rounds; per-op figures are the median"
        " over rounds of batch time ÷ ops; ratios are medians of per-round ratios",
    ]
