"""better-auth's cryptography, byte for byte: scrypt password hashes and signed session cookies.

I/O-free, so the sync and async session lookups share it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from collections.abc import Mapping
from urllib.parse import quote, unquote

from codex_db.errors import ConfigError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "hash_password",
    "resolve_secret",
    "session_token_from_headers",
    "sign_session_token",
    "unsign_session_token",
    "verify_password",
]

#: better-auth's default ``emailAndPassword.maxPasswordLength``.
MAX_PASSWORD_LENGTH = 128
# better-auth (noble / node:crypto scrypt): N=16384, r=16, p=1, dkLen=64.
_N, _R, _P, _DKLEN = 16384, 16, 1, 64
_MAXMEM = 128 * _N * _R * 2  # OpenSSL's default limit is too low for r=16
_SIGNATURE_LENGTH = 44  # base64 of a SHA-256 HMAC, with its padding "="
_COOKIE_SAFE = "-_.!~*'()"  # what JavaScript's encodeURIComponent leaves alone


def hash_password(password: str, *, max_length: int = MAX_PASSWORD_LENGTH) -> str:
    """Hash *password* as better-auth does: ``"<salt hex>:<scrypt key hex>"``.

    Costs about 0.1 s of CPU: in async code run it in a thread
    (``await asyncio.to_thread(hash_password, pw)``).
    """
    _check_password(password, max_length)
    salt = secrets.token_hex(16)
    return f"{salt}:{_scrypt(password, salt).hex()}"


def verify_password(
    stored_hash: str, password: str, *, max_length: int = MAX_PASSWORD_LENGTH
) -> bool:
    """True when *password* matches a better-auth hash from ``accounts.password``.

    The comparison is constant-time. Costs about 0.1 s, like `hash_password`.
    Raises ``ValueError`` for an empty or over-long password, or a stored
    hash that is not better-auth's ``salt:key`` format.
    """
    _check_password(password, max_length)
    salt, _, key_hex = stored_hash.partition(":")
    if not salt or len(key_hex) != 2 * _DKLEN:
        raise ValueError("stored hash is not better-auth's scrypt format '<salt>:<128 hex digits>'")
    return hmac.compare_digest(_scrypt(password, salt).hex(), key_hex.lower())


def sign_session_token(token: str, secret: str) -> str:
    """The cookie value better-auth sets for *token*: ``token.signature``, URI-encoded.

    Use it in tests and tools that need a cookie exactly as better-auth makes it.
    """
    return quote(f"{token}.{_signature(token, secret)}", safe=_COOKIE_SAFE)


def unsign_session_token(value: str, secret: str) -> str | None:
    """The session token in a signed cookie value, or ``None`` when it is not validly signed.

    Accepts the value still percent-encoded or already decoded. Never raises
    on malformed input.
    """
    decoded = unquote(value)  # never unquote_plus: the base64 signature may hold "+"
    token, dot, signature = decoded.rpartition(".")
    if not dot or not token or len(signature) != _SIGNATURE_LENGTH or signature[-1] != "=":
        return None
    expected = _signature(token, secret)
    return token if hmac.compare_digest(expected.encode(), signature.encode()) else None


def session_token_from_headers(
    headers: Mapping[str, str], secret: str, *, cookie_prefix: str = "better-auth"
) -> str | None:
    """The verified session token carried by a request's headers, or ``None``.

    Looks at the ``__Secure-<prefix>.session_token`` and
    ``<prefix>.session_token`` cookies, then at ``Authorization: Bearer``
    (better-auth's bearer plugin: a signed value, or a bare token).
    """
    cookie, authorization = _header(headers, "cookie"), _header(headers, "authorization")
    names = (f"__Secure-{cookie_prefix}.session_token", f"{cookie_prefix}.session_token")
    for name in names:
        # A browser may send the same cookie twice (another path or domain):
        # take the first value that is validly signed.
        for value in _cookie_values(cookie or "", name):
            token = unsign_session_token(value, secret)
            if token is not None:
                return token
    return _bearer(authorization, secret) if authorization else None


def resolve_secret(secret: str | None = None) -> str:
    """The better-auth secret: *secret*, else ``BETTER_AUTH_SECRET``, else ``AUTH_SECRET``.

    Raises `ConfigError` when none is set: unlike better-auth, there is no
    default secret to fall back to.
    """
    resolved = secret or os.environ.get("BETTER_AUTH_SECRET") or os.environ.get("AUTH_SECRET")
    if not resolved:
        raise ConfigError(
            "no better-auth secret configured: set BETTER_AUTH_SECRET (or AUTH_SECRET)"
            " to the secret of the better-auth app, or pass secret="
        )
    return resolved


def _check_password(password: str, max_length: int) -> None:
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string")
    if len(password) > max_length:
        raise ValueError(f"password is longer than {max_length} characters")


def _scrypt(password: str, salt: str) -> bytes:
    normalized = unicodedata.normalize("NFKC", password).encode()
    # The salt is used as text: its UTF-8 bytes, not the 16 bytes it encodes.
    return hashlib.scrypt(
        normalized, salt=salt.encode(), n=_N, r=_R, p=_P, dklen=_DKLEN, maxmem=_MAXMEM
    )


def _signature(token: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name) or headers.get(name.title())
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value if isinstance(value, str) else None


def _cookie_values(header: str, name: str) -> list[str]:
    values = []
    for part in header.split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            values.append(value.strip().strip('"'))
    return values


def _bearer(header: str, secret: str) -> str | None:
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return None
    if "." in unquote(credentials):
        return unsign_session_token(credentials, secret)
    return credentials
