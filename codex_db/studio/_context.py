"""What every page of one studio run shares: the database, the mode and the limits."""

from __future__ import annotations

import msgspec
import psycopg

from codex_db._dsn import display
from codex_db.studio import _render
from codex_db.studio._console_role import ConsoleRole
from codex_db.studio._http import Response

__all__ = ["Context"]


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """The settings of one studio run, handed to every route."""

    url: str
    write: bool = False
    csrf: str = ""
    console_timeout: float = 5.0
    """Seconds a console statement may run (``statement_timeout``)."""
    console_rows: int = 500
    """Rows the console shows at most."""
    console: ConsoleRole = ConsoleRole(mode="off", reason="not prepared")
    """Who console statements run as (`prepare_console_role`)."""
    page_timeout: float = 5.0
    """Seconds each query of a page may run (``statement_timeout``)."""
    export_rows: int = 100_000
    """Rows an export (CSV, JSON) sends at most."""
    lock_timeout: float = 1.0
    """Seconds any query (pages and console) may wait for a lock (``lock_timeout``)."""
    exact_count_limit: int = 500_000
    """Above this many rows (the planner's estimate) pages show the estimate, ``~N``."""

    @property
    def database(self) -> str:
        """The database URL without its password, for the page header."""
        return display(self.url)

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A new autocommit connection for one request, with the page and lock timeouts, in UTC.

        Close it (``with``) when done. A query over the limits raises
        `psycopg.errors.QueryCanceled`. Timestamps read and typed on the pages
        are UTC, whatever the server's ``TimeZone``.
        """
        conn = psycopg.connect(
            self.url, autocommit=True, connect_timeout=10, application_name="codex-db studio"
        )
        settings = [
            ("statement_timeout", f"{int(self.page_timeout * 1000)}"),
            ("lock_timeout", f"{int(self.lock_timeout * 1000)}"),
            ("TimeZone", "UTC"),
        ]
        for name, value in settings:
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        return conn

    def page(self, title: str, body: _render.Html, status: int = 200) -> Response:
        """*body* in the studio's page frame."""
        return _render.page(title, body, database=self.database, write=self.write, status=status)
