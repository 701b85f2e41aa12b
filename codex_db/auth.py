"""Recognise better-auth users from Python: sessions from request headers, password hashes.

The Python side of ``auth.api.getSession({ headers })``: a service sharing the
database with a better-auth app reads the same session cookie, checks its
signature with the same secret and looks the session up in the same tables.
It only reads; refreshing or ending sessions stays with the auth server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from codex_db._authcrypto import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    resolve_secret,
    session_token_from_headers,
    sign_session_token,
    unsign_session_token,
    verify_password,
)
from codex_db.dbtx import DBTX, AsyncDBTX
from codex_db.generated import sessions, sessions_async

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "AuthSession",
    "get_session",
    "get_session_async",
    "hash_password",
    "sign_session_token",
    "unsign_session_token",
    "verify_password",
]

for _public in (hash_password, verify_password, sign_session_token, unsign_session_token):
    _public.__module__ = __name__  # implemented in codex_db._authcrypto

#: A live session with its user: ``.session`` (`models.Session`) and ``.user`` (`models.User`).
AuthSession: TypeAlias = sessions.GetSessionWithUserRow

# Tokens better-auth issues are 32 characters; anything this long is not one.
_MAX_TOKEN_LENGTH = 1024


def get_session(
    headers: Mapping[str, str],
    *,
    db: DBTX | None = None,
    secret: str | None = None,
    cookie_prefix: str = "better-auth",
) -> AuthSession | None:
    """The session and user a request belongs to, or ``None`` when it has none.

    *headers* is any mapping of request headers (names in any case): the
    session cookie (``__Secure-better-auth.session_token`` or
    ``better-auth.session_token``) or ``Authorization: Bearer``. Returns
    ``None`` for a missing, malformed or wrongly signed cookie, an unknown or
    expired session, or a soft-deleted user; it never raises on what a client
    sends. The secret is *secret*, else ``BETTER_AUTH_SECRET``, else
    ``AUTH_SECRET``; with none of them it raises `codex_db.ConfigError`.
    *db* defaults to ``codex_db.db_http``.
    """
    token = _token(headers, secret, cookie_prefix)
    if token is None:
        return None
    return sessions.get_session_with_user(db or _default_db(), token=token)


async def get_session_async(
    headers: Mapping[str, str],
    *,
    db: AsyncDBTX,
    secret: str | None = None,
    cookie_prefix: str = "better-auth",
) -> AuthSession | None:
    """`get_session` for async code: the lookup runs on the async client *db*."""
    token = _token(headers, secret, cookie_prefix)
    if token is None:
        return None
    return await sessions_async.get_session_with_user(db, token=token)


def _token(headers: Mapping[str, str], secret: str | None, cookie_prefix: str) -> str | None:
    resolved = resolve_secret(secret)  # a missing secret is a configuration error, always
    try:
        token = session_token_from_headers(headers, resolved, cookie_prefix=cookie_prefix)
    except (AttributeError, TypeError, ValueError, UnicodeError):
        return None
    if token is None or len(token) > _MAX_TOKEN_LENGTH or not _storable(token):
        return None
    return token


def _storable(text: str) -> bool:
    """Whether PostgreSQL can take *text* as a parameter (no NUL, valid UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _default_db() -> DBTX:
    from codex_db.client import db_http

    return db_http
