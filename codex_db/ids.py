"""Identifiers in better-auth's format, for the auth tables' text primary keys."""

from __future__ import annotations

import secrets
import string

__all__ = ["new_id"]

_ALPHABET = string.ascii_letters + string.digits


def new_id(length: int = 32) -> str:
    """A random id like better-auth's ``generateId()``: 32 characters of ``[a-zA-Z0-9]``.

    Use it for ``users.id``, ``accounts.id``, ``sessions.id``, session tokens
    and ``verification_tokens.id``. The content tables use UUIDs from the
    database instead.
    """
    if length < 16:
        raise ValueError(f"an id of {length} characters is too short to be unguessable: use >= 16")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
