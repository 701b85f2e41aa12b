"""Who may use the studio: the per-run token, its cookie, CSRF tokens and origin checks.

The token is printed once (in the start URL); the first request carrying it
gets an HttpOnly, SameSite=Strict cookie and a redirect to the same URL
without it, so it leaves the address bar and history. Every other request
needs the cookie. POSTs also need a same-origin ``Origin`` (or ``Referer``)
and the form's CSRF token, derived from the run token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

__all__ = ["SECURITY_HEADERS", "Guard", "is_loopback"]

#: Sent with every response: no scripts, no framing, nothing cached, no sniffing.
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def is_loopback(host: str) -> bool:
    """Whether *host* only accepts connections from this machine."""
    return host in _LOOPBACK or host.startswith("127.")


class Guard:
    """The secrets of one studio run and the checks that use them.

    Create one per server; tests read `token` to build their start URL.
    """

    def __init__(self, port: int, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        # Cookies ignore ports: name it per port so two studios do not clash.
        self.cookie_name = f"codex_studio_{port}"
        self.csrf = hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def valid_token(self, candidate: str | None) -> bool:
        """Whether *candidate* is this run's token (constant-time comparison)."""
        return candidate is not None and hmac.compare_digest(candidate, self.token)

    def cookie_token(self, header: str | None) -> str | None:
        """The token in this run's cookie of a ``Cookie`` header, if any."""
        if not header:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            return None
        morsel = jar.get(self.cookie_name)
        return morsel.value if morsel else None

    def set_cookie(self) -> str:
        """The ``Set-Cookie`` value that admits this browser for the rest of the run."""
        return f"{self.cookie_name}={self.token}; HttpOnly; SameSite=Strict; Path=/"

    def valid_csrf(self, candidate: str) -> bool:
        """Whether a form's CSRF field is this run's."""
        return hmac.compare_digest(candidate, self.csrf)

    @staticmethod
    def same_origin(host: str | None, origin: str | None, referer: str | None) -> bool:
        """Whether a POST comes from a page of this server (``Origin``, else ``Referer``).

        A request with neither header is refused: browsers send ``Origin`` on
        every POST, so only a non-browser client lacks both.
        """
        if not host:
            return False
        source = origin if origin and origin != "null" else referer
        if not source:
            return False
        parts = urlsplit(source)
        return parts.scheme == "http" and parts.netloc == host
