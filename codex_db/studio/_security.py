"""Who may use the studio: the per-run token, its cookie, CSRF tokens, Host and origin checks.

The token is printed once (in the start URL); the first request carrying it
gets an HttpOnly, SameSite=Strict cookie and a redirect to the same page on
the studio's own origin without it, so it leaves the address bar and history.
Every other request needs the cookie. Every request must name the studio's
own host and port in ``Host`` (DNS rebinding sends another name). POSTs also
need a same-origin ``Origin`` (or ``Referer``) and the form's CSRF token,
derived from the run token.

Cookies ignore ports: a cookie set by ``127.0.0.1:4983`` is sent to every
server on ``127.0.0.1``. On loopback the studio is therefore reached under a
host name of its own for each run, ``studio-<random>.localhost`` (browsers
resolve ``*.localhost`` to the loopback address themselves), so its cookie
goes to no other server the browser talks to.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

__all__ = ["SECURITY_HEADERS", "Guard", "is_loopback", "run_host_name"]

#: Sent with every response: only the studio's own script and style (no inline
#: code), no framing, nothing cached, no sniffing.
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def is_loopback(host: str) -> bool:
    """Whether listening on *host* only accepts connections from this machine.

    Only ``localhost`` and loopback addresses count: ``127.evil.example`` is a
    name like any other, and may resolve anywhere.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_unspecified(host: str) -> bool:
    return _is_address(host) and ipaddress.ip_address(host.strip("[]")).is_unspecified


def run_host_name() -> str:
    """A host name under ``.localhost`` unique to this run: its cookie reaches no other server."""
    return f"studio-{secrets.token_hex(4)}.localhost"


class Guard:
    """The secrets of one studio run and the checks that use them.

    Create one per server, then `bind` it to the name and port the studio is
    reached at; tests read `token` and `origin` to build their requests.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self.csrf = hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()
        self.host = "127.0.0.1"
        self.port = 0
        self.any_address = False
        self.cookie_name = "codex_studio"

    def bind(self, host: str, port: int) -> None:
        """Accept requests for *host*:*port* only (``Host``, ``Origin``), with a cookie per port.

        On a wildcard address (``0.0.0.0``, ``::``) the machine has many
        names: any IP address with *port* is accepted too (DNS rebinding needs
        a name, never an address), but no other name.
        """
        self.host = host.lower()
        self.port = port
        self.any_address = _is_unspecified(self.host)
        # On a shared host name (not our .localhost one) two studios must not clash.
        self.cookie_name = f"codex_studio_{port}"

    @property
    def netloc(self) -> str:
        """``host:port`` as a browser sends it in ``Host`` (IPv6 in brackets)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{shown}:{self.port}"

    @property
    def origin(self) -> str:
        """``http://host:port``: the only origin pages, forms and redirects belong to."""
        return f"http://{self.netloc}"

    def valid_host(self, header: str | None) -> bool:
        """Whether a ``Host`` header names this studio (refuses DNS-rebound names)."""
        if not header:
            return False
        host = header.strip().lower()
        if host == self.netloc or (self.port == 80 and host == self.netloc[:-3]):
            return True
        name, _, port = host.rpartition(":")
        return self.any_address and port == str(self.port) and _is_address(name)

    def valid_token(self, candidate: str | None) -> bool:
        """Whether *candidate* is this run's token (constant-time comparison)."""
        return candidate is not None and hmac.compare_digest(
            candidate.encode(), self.token.encode()
        )

    def admitted(self, header: str | None) -> bool:
        """Whether a ``Cookie`` header carries this run's cookie.

        Parsed leniently, one ``name=value`` pair at a time: other sites'
        cookies on the same host (malformed ones included) are ignored.
        """
        return any(self.valid_token(value) for value in self._cookie_values(header))

    def set_cookie(self) -> str:
        """The ``Set-Cookie`` value that admits this browser for the rest of the run."""
        return f"{self.cookie_name}={self.token}; HttpOnly; SameSite=Strict; Path=/"

    def valid_csrf(self, candidate: str) -> bool:
        """Whether a form's CSRF field is this run's."""
        return hmac.compare_digest(candidate.encode(), self.csrf.encode())

    def same_origin(self, origin: str | None, referer: str | None, host: str | None) -> bool:
        """Whether a POST comes from a page of this studio (``Origin``, else ``Referer``).

        The source must name the request's *host*, which `valid_host` has
        already checked. A request with neither header is refused: browsers send ``Origin`` on
        every POST, so only a non-browser client lacks both.
        """
        source = origin if origin and origin != "null" else referer
        if not source:
            return False
        parts = urlsplit(source)
        return parts.scheme == "http" and parts.netloc.lower() == (host or "").strip().lower()

    def _cookie_values(self, header: str | None) -> list[str]:
        values = []
        for piece in (header or "").split(";"):
            name, sep, value = piece.partition("=")
            if sep and name.strip() == self.cookie_name:
                values.append(value.strip().strip('"'))
        return values
