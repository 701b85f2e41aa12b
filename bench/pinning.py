"""``--pin``: put the client and the server on one CPU core.

On small VMs a short query's latency is dominated by waking the other side
up on another core; pinning both to one core measures the code instead of
the scheduler. Threads and processes started later inherit the affinity.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["pick_core", "pin_client", "pin_server"]


def pick_core() -> int:
    """The highest-numbered core this process may run on (core 0 takes most interrupts)."""
    return max(os.sched_getaffinity(0))


def pin_client(core: int) -> None:
    """Pin this process (its current thread, and every thread started later) to *core*."""
    os.sched_setaffinity(0, {core})


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may contain spaces and parentheses: the ppid follows the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def pin_server(data_dir: Path, core: int) -> list[int]:
    """Pin the postmaster in *data_dir* and its current children to *core*; return the pids."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster, *_children(postmaster)]
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that just exited
            os.sched_setaffinity(pid, {core})
    return pids
