"""The studio's HTTP server: the security gate in front of every route, and the routing.

`make_server()` returns a `StudioServer` (a `ThreadingHTTPServer`) that has not
started serving; run ``serve_forever()`` yourself (tests do it in a thread on
port 0), or call `codex_db.studio.serve()`.
"""

from __future__ import annotations

import re
import socket
import sys
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import msgspec
import psycopg

from codex_db._dsn import direct_url
from codex_db.studio import _export, _forms, _pages, _schema, _tools
from codex_db.studio._console_role import drop_console_role, prepare_console_role
from codex_db.studio._context import Context
from codex_db.studio._http import HTTPError, Request, Response
from codex_db.studio._render import CSS, SCRIPT, Html, e
from codex_db.studio._security import SECURITY_HEADERS, Guard, run_host_name

__all__ = ["StudioServer", "make_server"]

_MAX_BODY = 1 << 20
_TOKEN = re.compile(r"token=[^&\s]+")

Route = Callable[..., Response]

#: (method, path pattern, route, changes data): the table name is one path segment.
_ROUTES: tuple[tuple[str, re.Pattern[str], Route, bool], ...] = (
    ("GET", re.compile(r"/"), _pages.table_list, False),
    ("GET", re.compile(r"/t/([^/]+)"), _pages.table_page, False),
    ("GET", re.compile(r"/t/([^/]+)/row"), _pages.row_page, False),
    ("GET", re.compile(r"/t/([^/]+)/export"), _export.export_page, False),
    ("GET", re.compile(r"/t/([^/]+)/new"), _forms.insert_page, True),
    ("POST", re.compile(r"/t/([^/]+)/preview"), _forms.preview_page, True),
    ("POST", re.compile(r"/t/([^/]+)/apply"), _forms.apply_page, True),
    ("GET", re.compile(r"/sql"), _tools.console_page, False),
    ("POST", re.compile(r"/sql"), _tools.console_page, False),
    ("GET", re.compile(r"/schema"), _schema.schema_page, False),
    ("GET", re.compile(r"/triggers"), _tools.triggers_page, False),
    ("GET", re.compile(r"/migrations"), _tools.migrations_page, False),
)


class StudioServer(ThreadingHTTPServer):
    """The studio's HTTP server; `start_url` is the address to open (it carries the token)."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], ctx: Context, guard: Guard, quiet: bool, read_timeout: float
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.ctx = ctx  # before binding: a failed bind calls server_close()
        super().__init__(address, _Handler)
        self.guard = guard
        self.quiet = quiet
        self.read_timeout = read_timeout

    @property
    def start_url(self) -> str:
        """``http://host:port/?token=...``: print it once; the browser trades it for a cookie."""
        return f"{self.guard.origin}/?{urlencode({'token': self.guard.token})}"

    def server_close(self) -> None:
        """Stop listening and drop the console's reader role."""
        super().server_close()
        drop_console_role(self.ctx.url, self.ctx.console)

    def handle_request_safely(self, method: str, handler: _Handler) -> Response:
        """Check the request against the security rules, then route it."""
        try:
            return self._gate(method, handler)
        except HTTPError as exc:
            return self.ctx.page(
                _TITLES.get(exc.status, "Error"), _message(exc.message), exc.status
            )
        except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable) as exc:
            return self.ctx.page("Too slow", _message(self._too_slow(exc)), 504)
        except psycopg.Error as exc:
            return self.ctx.page("Database error", _message(str(exc).strip()), 400)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return self.ctx.page("Internal error", _message("see the studio's terminal"), 500)

    def _too_slow(self, exc: psycopg.Error) -> str:
        return (
            f"{str(exc).strip()}: each query of a page may run {self.ctx.page_timeout:g} s and"
            f" wait {self.ctx.lock_timeout:g} s for a lock; narrow the filters, sort by an"
            " indexed column, or try again when the lock is released"
        )

    def _gate(self, method: str, handler: _Handler) -> Response:
        if not self.guard.valid_host(handler.headers.get("Host")):
            raise HTTPError(
                421, f"this studio answers only at {self.guard.origin}: open the URL it printed"
            )
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if "token" in query and method == "GET":
            return self._admit(parts.path, query)
        if not self.guard.admitted(handler.headers.get("Cookie")):
            raise HTTPError(403, "open the URL the studio printed (it carries the access token)")
        form: dict[str, list[str]] = {}
        if method == "POST":
            form = self._form(handler)
        request = Request(method, parts.path, query, form, self.ctx.csrf, self.ctx.write)
        if parts.path == "/static/studio.css":
            return Response(CSS, content_type="text/css; charset=utf-8")
        if parts.path == "/static/studio.js":
            return Response(SCRIPT, content_type="text/javascript; charset=utf-8")
        return self._route(request)

    def _admit(self, path: str, query: dict[str, list[str]]) -> Response:
        if not self.guard.valid_token(query["token"][0]):
            raise HTTPError(403, "wrong access token: use the URL the studio printed")
        rest = [(k, v) for k, values in query.items() if k != "token" for v in values]
        # Absolute, on our own origin: "/\\evil.example/" must not become "//evil.example/".
        tail = path.lstrip("/\\")
        location = f"{self.guard.origin}/{tail}" + (f"?{urlencode(rest)}" if rest else "")
        return Response(
            b"",
            status=303,
            headers=[("Location", location), ("Set-Cookie", self.guard.set_cookie())],
        )

    def _form(self, handler: _Handler) -> dict[str, list[str]]:
        headers = handler.headers
        if not self.guard.same_origin(
            headers.get("Origin"), headers.get("Referer"), headers.get("Host")
        ):
            raise HTTPError(403, "cross-origin request refused")
        length_header = headers.get("Content-Length") or "0"
        if not length_header.isdigit():
            raise HTTPError(400, "invalid Content-Length")
        length = int(length_header)
        if length > _MAX_BODY:
            raise HTTPError(413, "form too large")
        body = handler.rfile.read(length).decode("utf-8", "replace")
        form = parse_qs(body, keep_blank_values=True)
        if not self.guard.valid_csrf((form.get("csrf") or [""])[0]):
            raise HTTPError(403, "missing or stale form token: reload the page and try again")
        return form

    def _route(self, request: Request) -> Response:
        allowed = False
        for method, pattern, route, writes in _ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            allowed = True
            if method != request.method:
                continue
            if writes and not self.ctx.write:
                raise HTTPError(403, "the studio is read-only: start it with --write to edit rows")
            return route(self.ctx, request, *(unquote(g) for g in match.groups()))
        raise HTTPError(
            405 if allowed else 404, "not found" if not allowed else "method not allowed"
        )


_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    421: "Wrong host",
}


def _message(text: str) -> Html:
    return Html(f'<div class="error">{e(text)}</div>')


class _Handler(BaseHTTPRequestHandler):
    server: StudioServer
    server_version = "codex-db-studio"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # A client that sends nothing must not hold a server thread forever.
        self.connection.settimeout(self.server.read_timeout)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        response = self.server.handle_request_safely(method, self)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in (*SECURITY_HEADERS, *response.headers):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
        if response.stream is not None:
            self._stream(response.stream)

    def _stream(self, chunks: Iterator[bytes]) -> None:
        """Send the rest of a streamed answer; the connection's end marks its end (HTTP/1.0)."""
        self.close_connection = True
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except OSError:
            pass  # the browser stopped the download
        except psycopg.Error as exc:
            sys.stderr.write(f"studio: a streamed answer stopped early: {str(exc).strip()}\n")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            message = _TOKEN.sub("token=***", format % args)
            sys.stderr.write(f"studio: {message}\n")


def make_server(
    url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 4983,
    write: bool = False,
    console_timeout: float = 5.0,
    console_rows: int = 500,
    console_superuser: bool = False,
    page_timeout: float = 5.0,
    lock_timeout: float = 1.0,
    read_timeout: float = 30.0,
    export_rows: int = 100_000,
    exact_count_limit: int = 500_000,
    quiet: bool = False,
    token: str | None = None,
) -> StudioServer:
    """Bind the studio for the database at *url* and return it, not yet serving.

    On ``127.0.0.1`` (or ``localhost``) it is reached as a ``.localhost`` name
    of its own (`start_url`); elsewhere at *host* itself. The console's reader
    role is created here and dropped by ``server_close()``; *console_superuser*
    allows plain reads as a superuser where no such role can be had.
    *page_timeout* and *lock_timeout* bound every query of a page,
    *read_timeout* how long a connection may stay silent, *export_rows* how
    many rows a CSV or JSON export sends at most, *exact_count_limit* above
    how many rows (the planner's estimate) a count is that estimate (``~N``).

    A Neon ``-pooler`` host is replaced by the direct one, as for migrations:
    the console's prepared statement and timeouts need a session of their own.

    Use it to run the studio in your own thread (tests: ``port=0``); `serve()`
    is the blocking, printing, browser-opening wrapper around it.
    """
    guard = Guard(token)
    direct = direct_url(url)
    ctx = Context(
        url=direct,
        write=write,
        csrf=guard.csrf,
        console_timeout=console_timeout,
        console_rows=console_rows,
        page_timeout=page_timeout,
        lock_timeout=lock_timeout,
        export_rows=export_rows,
        exact_count_limit=exact_count_limit,
    )
    server = StudioServer((host, port), ctx, guard, quiet, read_timeout)
    shared = host in ("127.0.0.1", "localhost")
    guard.bind(run_host_name() if shared else host, server.server_address[1])
    console = prepare_console_role(direct, superuser_ok=console_superuser)
    server.ctx = msgspec.structs.replace(ctx, console=console)
    return server
