"""`paginate` / `apaginate`: page windows, page arithmetic, and both on real queries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codex_db import Database, Page, Transaction, apaginate, new_id, paginate
from codex_db.generated import content, content_async, users, users_async
from codex_db.pagination import MAX_PAGE_SIZE, page_window
from codex_db.testing import AsyncIsolation


@pytest.mark.parametrize(
    ("page", "size", "window"),
    [(1, 20, (0, 20)), (2, 20, (20, 20)), (5, 3, (12, 3)), (1, MAX_PAGE_SIZE, (0, 100))],
)
def test_page_window(page: int, size: int, window: tuple[int, int]) -> None:
    """(page, page_size) becomes (offset, limit)."""
    assert page_window(page, size) == window


@pytest.mark.parametrize(
    ("page", "size", "message"),
    [
        (0, 20, "page must be an integer >= 1, got 0"),
        (-1, 20, "page must be an integer >= 1"),
        (True, 20, "page must be an integer >= 1, got True"),
        ("2", 20, "page must be an integer >= 1, got '2'"),
        (1, 0, "page_size must be an integer from 1 to 100, got 0"),
        (1, 101, "page_size must be an integer from 1 to 100, got 101"),
        (1, 2.5, "page_size must be an integer from 1 to 100, got 2.5"),
    ],
)
def test_bad_windows_are_refused(page: Any, size: Any, message: str) -> None:
    """A bad page or page size is a ValueError naming the value, before any query runs."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        paginate(_never, _never_count, page=page, page_size=size)


def test_max_page_size_can_be_raised() -> None:
    """max_page_size widens the allowed range."""
    assert page_window(1, 500, max_page_size=1000) == (0, 500)


@pytest.mark.parametrize(
    ("total", "size", "page", "pages", "has_next"),
    [(0, 20, 1, 1, False), (20, 20, 1, 1, False), (21, 20, 1, 2, True), (21, 20, 2, 2, False)],
)
def test_page_arithmetic(total: int, size: int, page: int, pages: int, has_next: bool) -> None:
    """pages is at least 1; has_next is true before the last page."""
    result: Page[int] = Page(items=[], total=total, page=page, page_size=size)
    assert (result.pages, result.has_next) == (pages, has_next)


def _never(offset: int, limit: int) -> list[Any]:
    raise AssertionError("fetch must not run")


def _never_count() -> int:
    raise AssertionError("count must not run")


def _seed(db: Database | Transaction, count: int) -> str:
    creator = users.create_user(
        db, users.CreateUserParams(id=new_id(), name="Pat", email=f"{new_id()}@pages.test")
    )
    for n in range(count):
        content.create_content(
            db,
            content.CreateContentParams(
                creator_id=creator.id,
                title=f"page item {n:02d}",
                slug=f"p-{new_id()}",
                content_type="written",
            ),
        )
    return creator.id


def test_paginate_walks_a_real_listing(dbtx: Database | Transaction) -> None:
    """Pages of list_content with count_content: every row once, totals right."""
    creator = _seed(dbtx, 7)
    seen: list[str] = []
    for number in (1, 2, 3):
        page = paginate(
            lambda offset, limit: content.list_content(
                dbtx,
                content.ListContentParams(creator_id=creator, skip_rows=offset, max_rows=limit),
            ),
            lambda: content.count_content(dbtx, content.CountContentParams(creator_id=creator)),
            page=number,
            page_size=3,
        )
        assert (page.total, page.pages, page.page) == (7, 3, number)
        assert page.has_next is (number < 3)
        seen += [row.title for row in page.items]
    assert sorted(seen) == [f"page item {n:02d}" for n in range(7)]


def test_apaginate_runs_fetch_and_count_concurrently() -> None:
    """apaginate starts both coroutines before either finishes (asyncio.gather)."""
    started: list[str] = []

    async def fetch(offset: int, limit: int) -> list[int]:
        started.append("fetch")
        await asyncio.sleep(0.01)
        assert "count" in started
        return list(range(offset, offset + limit))

    async def count() -> int:
        started.append("count")
        await asyncio.sleep(0.01)
        assert "fetch" in started
        return 10

    page = asyncio.run(apaginate(fetch, count, page=2, page_size=4))
    assert (page.items, page.total, page.pages) == ([4, 5, 6, 7], 10, 3)


def test_apaginate_on_a_real_listing(aisolated_db: AsyncIsolation) -> None:
    """apaginate on the async generated functions, in an isolated async client."""

    async def main() -> Page[Any]:
        async with aisolated_db as db:
            creator = await users_async_create(db)
            for n in range(5):
                await content_async.create_content(
                    db,
                    content.CreateContentParams(
                        creator_id=creator,
                        title=f"async {n}",
                        slug=f"a-{new_id()}",
                        content_type="written",
                    ),
                )
            # One connection: the two statements run one after the other on it.
            return await apaginate(
                lambda offset, limit: content_async.list_content(
                    db,
                    content.ListContentParams(creator_id=creator, skip_rows=offset, max_rows=limit),
                ),
                lambda: content_async.count_content(
                    db, content.CountContentParams(creator_id=creator)
                ),
                page=2,
                page_size=2,
            )

    page = asyncio.run(main())
    assert (page.total, page.pages, page.has_next, len(page.items)) == (5, 3, True, 2)


async def users_async_create(db: Any) -> str:
    user = await users_async.create_user(
        db, users.CreateUserParams(id=new_id(), name="Al", email=f"{new_id()}@pages.test")
    )
    return user.id
