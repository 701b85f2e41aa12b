"""The benchmark database: create, migrate, load content rows through the generated COPY."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from codex_db import migrate
from codex_db._dsn import with_dbname
from codex_db._pool import configure_connection
from codex_db.dbtx import Conn
from codex_db.generated import content

__all__ = [
    "BULK_CREATOR",
    "CREATORS",
    "MEDIA_PER_CREATOR",
    "WRITER",
    "create_database",
    "drop_database",
    "load",
    "make_rows",
    "prepare",
]

CREATORS = 1000
"""Creators the loaded rows are spread over (``user-0000``...)."""
MEDIA_PER_CREATOR = 20
"""Creator ``user-NNNN`` has ``NNNN % MEDIA_PER_CREATOR`` media items (0 to 19: 9.5 on average)."""
WRITER = "bench-writer"
"""The creator of rows inserted by the insert workloads (deleted after every batch)."""
BULK_CREATOR = "bench-bulk"
"""The creator of rows inserted by the bulk-insert workload."""

_WORDS = (
    "piano", "jazz", "vinyl", "guitar", "drums", "synth", "tango", "opera", "choir", "cello",
    "violin", "blues", "techno", "ambient", "lecture", "python", "postgres", "cooking",
    "travel", "yoga", "chess", "history", "poetry", "cinema",
)  # fmt: skip
_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_CONTENT_TYPES = ("video", "audio", "written")
_CATEGORIES = ("music", "education", "film", "podcast", None)
_VISIBILITIES = ("public", "private", "members_only", "purchased_only")


def _url_with_dbname(url: str, dbname: str) -> str:
    return with_dbname(url, dbname)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database *name* (a copy of *template*, else empty), dropping a leftover."""
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(create)
    return _url_with_dbname(server_url, name)


def create_template(server_url: str, name: str) -> None:
    """Create database *name* with the migrations applied, to copy the others from."""
    migrate.apply(create_database(server_url, name))


def drop_database(server_url: str, name: str) -> None:
    """Drop the database *name* created by `create_database`."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def make_rows(
    start: int, count: int, rng: random.Random, creator: str | None = None
) -> Iterator[content.ImportContentParams]:
    """*count* realistic content rows numbered from *start*: every column filled, tags jsonb.

    Rows go to the creators ``user-NNNN`` round-robin unless *creator* is given;
    the slug is unique per creator (``item-<n>``).
    """
    for n in range(start, start + count):
        yield _row(n, rng, creator or f"user-{n % CREATORS:04d}")


def _row(n: int, rng: random.Random, creator: str) -> content.ImportContentParams:
    word = _WORDS[n % len(_WORDS)]
    status = "published" if n % 10 < 6 else ("archived" if n % 10 == 9 else "draft")
    content_type = _CONTENT_TYPES[n % 3]
    return content.ImportContentParams(
        id=UUID(int=rng.getrandbits(128), version=4),
        creator_id=creator,
        title=f"{word.title()} session {n} with {_WORDS[(n * 7) % len(_WORDS)]}",
        slug=f"item-{n}",
        description=f"A {content_type} about {word}: part {n % 97} of a series, recorded live.",
        content_type=content_type,
        thumbnail_url=f"https://cdn.example.com/thumbs/{n}.jpg",
        content_body=(f"Notes on {word}. " * 12) if content_type == "written" else None,
        category=_CATEGORIES[n % len(_CATEGORIES)],
        tags=[word, _WORDS[(n * 3) % len(_WORDS)], f"series-{n % 97}"],
        visibility=_VISIBILITIES[n % len(_VISIBILITIES)],
        price_cents=None if n % 5 == 0 else (n % 50) * 100,
        status=status,
        published_at=_BASE_TIME - timedelta(seconds=n * 7) if status == "published" else None,
        view_count=n % 1000,
        purchase_count=n % 37,
    )


def _users() -> list[tuple[str, str, str]]:
    names = [f"user-{i:04d}" for i in range(CREATORS)] + [WRITER, BULK_CREATOR]
    return [(name, name.title(), f"{name}@example.com") for name in names]


def _media() -> Iterator[tuple[Any, ...]]:
    """Media items of the creators (see `MEDIA_PER_CREATOR`), one minute apart each."""
    for i in range(CREATORS):
        creator = f"user-{i:04d}"
        for k in range(i % MEDIA_PER_CREATOR):
            kind = ("video", "audio")[k % 2]
            yield (
                creator,
                f"{_WORDS[(i + k) % len(_WORDS)].title()} clip {k}",
                kind,
                "ready",
                f"originals/{creator}/{k}.mp4",
                1_000_000 + 1000 * k,
                f"{kind}/mp4",
                60 + k,
                _BASE_TIME + timedelta(minutes=k),
            )


def load(url: str, rows: int, seed: int = 1) -> tuple[list[UUID], list[Any]]:
    """Load the creators, their media items and *rows* content rows.

    Content goes through the generated ``import_content``.

    Returns the ids and the ``(published_at, id)`` of the published rows.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    ids: list[UUID] = []
    cursors: list[tuple[datetime, UUID]] = []

    def tracked() -> Iterator[content.ImportContentParams]:
        for row in make_rows(0, rows, rng):
            ids.append(row.id)
            if row.status == "published" and row.published_at is not None:
                cursors.append((row.published_at, row.id))
            yield row

    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor().copy("COPY users (id, name, email) FROM STDIN") as copy:
            for user in _users():
                copy.write_row(user)
        media = (
            "COPY media_items (creator_id, title, media_type, status, r2_key, file_size_bytes,"
            " mime_type, duration_seconds, created_at) FROM STDIN"
        )
        with conn.cursor().copy(media) as copy:
            for item in _media():
                copy.write_row(item)
        configure_connection(conn)
        content.import_content(Conn.of(conn), tracked())
        conn.execute("VACUUM (ANALYZE) content")
        conn.execute("VACUUM (ANALYZE) users")
        conn.execute("VACUUM (ANALYZE) media_items")
    return ids, cursors


def prepare(
    server_url: str,
    name: str,
    rows: int,
    settings: dict[str, str] | None = None,
    template: str | None = None,
) -> tuple[str, list[UUID], list[Any]]:
    """Create database *name* (with *settings*), migrate it, load *rows* rows; return its URL.

    With *template* (from `create_template`), the database is a copy of it and
    the migrations are not applied again.
    """
    url = create_database(server_url, name, template)
    with psycopg.connect(server_url, autocommit=True) as conn:
        for setting, value in (settings or {}).items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)
                )
            )
    if template is None:
        migrate.apply(url)
    ids, cursors = load(url, rows)
    return url, ids, cursors


def slugs_of(rows: int) -> list[tuple[str, str]]:
    """``(creator_id, slug)`` of the rows `load` created (all are personal content)."""
    return [(f"user-{n % CREATORS:04d}", f"item-{n}") for n in range(rows)]


def dbname_of(url: str) -> str:
    """The database name in *url*."""
    return str(conninfo_to_dict(url).get("dbname", ""))
