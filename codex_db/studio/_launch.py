"""Starting the studio: resolving the database, refusing production, printing the URL."""

from __future__ import annotations

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

from codex_db._dsn import display
from codex_db._target import Target
from codex_db.studio._security import is_loopback
from codex_db.studio._server import make_server

__all__ = ["launch", "main", "serve"]

_PROG = "codex-db studio"


def serve(
    url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 4983,
    write: bool = False,
    open_browser: bool = True,
    console_timeout: float = 5.0,
    console_superuser: bool = False,
    out: TextIO | None = None,
) -> None:
    """Serve the studio for the database at *url* until interrupted (Ctrl-C or SIGTERM).

    Prints the start URL (it carries the access token) and opens it in a
    browser when *open_browser* and a graphical browser is available. Use
    `make_server()` instead to run it in a thread of your own.
    """
    out = out or sys.stdout
    with make_server(
        url,
        host=host,
        port=port,
        write=write,
        console_timeout=console_timeout,
        console_superuser=console_superuser,
    ) as server:
        mode = "WRITE mode: rows can be changed" if write else "read-only"
        print(f"{_PROG} for {display(url)} ({mode})", file=out)
        print(f"  open {server.start_url}", file=out)
        if server.ctx.console.mode != "reader":
            print(f"  SQL console: {server.ctx.console.reason}", file=out)
        print("  press Ctrl-C to stop", file=out, flush=True)
        if open_browser:
            _open_browser(server.start_url)
        try:
            with _sigterm_interrupts():
                server.serve_forever()
        except KeyboardInterrupt:
            print(f"{_PROG} stopped", file=out)


def main(argv: list[str] | None = None) -> int:
    """``codex-db studio ARGS``: the same as the command line (`codex_db.cli.main`)."""
    from codex_db.cli import main as cli_main

    return cli_main(["studio", *(argv or [])])


def launch(
    target: Target,
    *,
    host: str | None = None,
    port: int = 4983,
    write: bool = False,
    open_browser: bool = True,
    force_production: bool = False,
    console_superuser: bool = False,
) -> int:
    """Check *target* (refusing production unless forced), then `serve()`; returns the exit code."""
    if target.production and not force_production:
        print(
            f"{_PROG}: refusing to start against production ({target.display}):"
            " pass --force-production if you really mean it",
            file=sys.stderr,
        )
        return 2
    host = host or "127.0.0.1"
    if not is_loopback(host):
        print(
            f"{_PROG}: WARNING: listening on {host}: other machines can reach the studio;"
            " only the printed token keeps them out",
            file=sys.stderr,
        )
    try:
        serve(
            target.conninfo,
            host=host,
            port=port,
            write=write,
            open_browser=open_browser,
            console_superuser=console_superuser,
        )
    except OSError as exc:
        print(f"{_PROG}: cannot listen on {host}:{port}: {exc} (try --port)", file=sys.stderr)
        return 1
    return 0


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
