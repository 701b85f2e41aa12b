"""Types the ``overrides`` golden case maps JSON columns to (they must be importable)."""

from __future__ import annotations

import msgspec

__all__ = ["Address", "Profile"]


class Profile(msgspec.Struct, frozen=True):
    """A typed jsonb document."""

    nickname: str
    tags: list[str] = []


class Address(msgspec.Struct, frozen=True):
    """Another typed json document."""

    city: str
