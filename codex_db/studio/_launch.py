"""Starting the studio: resolving the database, refusing production, printing the URL."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TextIO

from codex_db._dsn import redact
from codex_db.config import DBMethod, Settings
from codex_db.errors import CodexDBError
from codex_db.studio._security import is_loopback
from codex_db.studio._server import make_server

__all__ = ["main", "serve"]

_PROG = "codex-db studio"


def serve(
    url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 4983,
    write: bool = False,
    open_browser: bool = True,
    console_timeout: float = 5.0,
    out: TextIO | None = None,
) -> None:
    """Serve the studio for the database at *url* until interrupted (Ctrl-C or SIGTERM).

    Prints the start URL (it carries the access token) and opens it in a
    browser when *open_browser* and a graphical browser is available. Use
    `make_server()` instead to run it in a thread of your own.
    """
    out = out or sys.stdout
    with make_server(
        url, host=host, port=port, write=write, console_timeout=console_timeout
    ) as server:
        mode = "WRITE mode: rows can be changed" if write else "read-only"
        print(f"{_PROG} for {redact(url)} ({mode})", file=out)
        print(f"  open {server.start_url}", file=out)
        print("  press Ctrl-C to stop", file=out, flush=True)
        if open_browser:
            _open_browser(server.start_url)
        try:
            with _sigterm_interrupts():
                server.serve_forever()
        except KeyboardInterrupt:
            print(f"{_PROG} stopped", file=out)


def main(argv: list[str] | None = None) -> int:
    """``codex-db studio``: parse *argv*, check the target, serve; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        url, production = _target(args.url)
    except CodexDBError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    if production and not args.force:
        print(
            f"{_PROG}: refusing to start against production ({redact(url)}):"
            " pass --force if you really mean it",
            file=sys.stderr,
        )
        return 2
    host = args.host or "127.0.0.1"
    if not is_loopback(host):
        print(
            f"{_PROG}: WARNING: listening on {host}: other machines can reach the studio;"
            " only the printed token keeps them out",
            file=sys.stderr,
        )
    try:
        serve(url, host=host, port=args.port, write=args.write, open_browser=not args.no_browser)
    except OSError as exc:
        print(f"{_PROG}: cannot listen on {host}:{args.port}: {exc} (try --port)", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Browse (and with --write, edit) the database in a browser."
    )
    parser.add_argument(
        "--url", help="database URL (default: the runtime settings: DATABASE_URL...)"
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; others warn)")
    parser.add_argument("--port", type=int, default=4983, help="port (default 4983; 0: any free)")
    parser.add_argument("--write", action="store_true", help="allow inserting, updating, deleting")
    parser.add_argument("--no-browser", action="store_true", help="print the URL only")
    parser.add_argument("--force", action="store_true", help="allow DB_METHOD=PRODUCTION")
    return parser


def _target(url: str | None) -> tuple[str, bool]:
    """The database URL and whether it is production (``--url``, else the runtime settings)."""
    production = _env_says_production()
    if url:
        return url, production
    settings = Settings.from_env()
    production = production or settings.is_production or settings.method is DBMethod.PRODUCTION
    if settings.url is not None or production:
        return settings.url or "", production
    return _embedded_url(settings), False


def _embedded_url(settings: Settings) -> str:
    from codex_db import migrate
    from codex_db.server import start_embedded

    server = start_embedded(settings.data_dir)
    if settings.auto_migrate:
        migrate.apply(server.url)
    return server.url


def _env_says_production() -> bool:
    env = {os.environ.get(k, "").strip().lower() for k in ("NODE_ENV", "APP_ENV")}
    return "production" in env or os.environ.get("DB_METHOD", "").strip().upper() == "PRODUCTION"


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM stop the server like Ctrl-C, so exit handlers (embedded server) run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def _open_browser(url: str) -> None:
    """Open *url* in a graphical browser if there is one; never fail, never block on a TUI."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not graphical:
        return
    with contextlib.suppress(Exception):  # a broken browser must not stop the studio
        webbrowser.open(url, new=2)
