"""Offset pagination: one page of rows together with the total count.

The README's ``Promise.all([rows, count])`` in Python. For deep pages on large
tables prefer keyset pagination (``content.list_published_content_after``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

__all__ = ["MAX_PAGE_SIZE", "Page", "apaginate", "page_window", "paginate"]

T = TypeVar("T")

#: The largest page `paginate` accepts unless told otherwise.
MAX_PAGE_SIZE = 100


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of *items* out of *total*, numbered from 1."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1, so an empty result has one empty page)."""
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.page < self.pages


def page_window(
    page: int, page_size: int, *, max_page_size: int = MAX_PAGE_SIZE
) -> tuple[int, int]:
    """Validate *page* and *page_size* and return ``(offset, limit)`` for the query."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an integer >= 1, got {page!r}")
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= max_page_size
    ):
        raise ValueError(
            f"page_size must be an integer from 1 to {max_page_size}, got {page_size!r}"
        )
    return (page - 1) * page_size, page_size


def paginate(
    fetch: Callable[[int, int], list[T]],
    count: Callable[[], int | None],
    *,
    page: int = 1,
    page_size: int = 20,
    max_page_size: int = MAX_PAGE_SIZE,
) -> Page[T]:
    """Run ``fetch(offset, limit)`` and ``count()`` and return them as a `Page`.

    Pass the same filters to both. Inside ``db_ws.transaction(isolation_level=
    REPEATABLE_READ)`` rows and total come from one snapshot; on the autocommit
    client they are two statements and may see different data under writes.
    """
    offset, limit = page_window(page, page_size, max_page_size=max_page_size)
    items = fetch(offset, limit)
    return Page(items=items, total=count() or 0, page=page, page_size=page_size)


async def apaginate(
    fetch: Callable[[int, int], Awaitable[list[T]]],
    count: Callable[[], Awaitable[int | None]],
    *,
    page: int = 1,
    page_size: int = 20,
    max_page_size: int = MAX_PAGE_SIZE,
) -> Page[T]:
    """The async `paginate`: rows and count run concurrently (like ``Promise.all``)."""
    offset, limit = page_window(page, page_size, max_page_size=max_page_size)
    items, total = await asyncio.gather(fetch(offset, limit), count())
    return Page(items=items, total=total or 0, page=page, page_size=page_size)
