"""Helpers for the tests that start PostgreSQL servers of their own (a standby, a TLS server)."""

from __future__ import annotations

import socket
import subprocess

__all__ = ["free_port", "run_as"]


def run_as(command: list[str], user: str | None) -> None:
    """Run *command* (a PostgreSQL binary) as *user* (``runuser``: they refuse root), or as is."""
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
