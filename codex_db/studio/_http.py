"""The studio's request and response values, independent of the HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

__all__ = ["HTTPError", "Request", "Response"]


class HTTPError(Exception):
    """Stop handling a request and answer *status* with *message* (escaped on the page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request(msgspec.Struct, frozen=True):
    """A parsed request: method, path, query string and (for POST) form fields."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]] = {}
    csrf: str = ""
    """The CSRF token forms of this run must carry."""
    write: bool = False
    """Whether the studio runs with ``--write``."""

    def arg(self, name: str, default: str = "") -> str:
        """The first value of query (or form) field *name*, else *default*."""
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of query (or form) field *name*, in order."""
        return self.form.get(name) or self.query.get(name) or []


class Response(msgspec.Struct):
    """What a route answers: status, body and extra headers, and maybe more body to stream."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = []
    stream: Iterator[bytes] | None = None
    """Sent after *body*, chunk by chunk, without a ``Content-Length``; closed when done."""
