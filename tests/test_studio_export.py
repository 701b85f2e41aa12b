"""codex-db studio's CSV and JSON export of a table's filtered view, over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import msgspec
import psycopg
import pytest

from codex_db.studio import StudioServer, _export
from codex_db.testing import TestServer
from tests.test_studio import CONTENT_ROWS, DELETED_CONTENT, WEIRD_PATH, Client, running, seeded

FILTER = {"fc": "view_count", "fo": "gte", "fv": "5", "sort": "published_at", "dir": "desc"}
WHERE = "deleted_at IS NULL AND view_count >= 5"
ORDER = "published_at DESC NULLS LAST, id DESC"


class Export(msgspec.Struct):
    """The JSON export's shape."""

    columns: list[str]
    rows: list[list[str | None]]
    truncated: bool


@pytest.fixture(scope="module")
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A seeded database, plus a row whose title is the empty string."""
    name = seeded(pg_server, migrated_template)
    url = pg_server.database_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE content SET title = '' WHERE slug = 'slug-4'")
    yield url
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def studio(db_url: str) -> Iterator[StudioServer]:
    """A read-only studio whose exports stop at 50 rows."""
    with running(db_url, export_rows=50) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Client:
    """A client holding the studio cookie."""
    return Client(studio).login()


@pytest.fixture
def sql(db_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run a query on the seeded database and return its rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:

        def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(query, params or None).fetchall()

        yield run


def expected(sql: Any, columns: list[str], where: str, order: str) -> list[list[str | None]]:
    """The rows SQL selects, as text, in *columns* order."""
    select = ", ".join(f'"{c}"::text' for c in columns)
    return [list(r) for r in sql(f"SELECT {select} FROM content WHERE {where} ORDER BY {order}")]


class TestExport:
    def test_csv_is_the_filtered_sorted_view(self, client: Client, sql: Any) -> None:
        """CSV: a header, then the rows the page's filters and sort select, as text."""
        reply = client.get("/t/content/export", format="csv", **FILTER)
        assert reply.status == 200
        assert reply.headers["content-type"] == "text/csv; charset=utf-8"
        assert reply.headers["content-disposition"] == 'attachment; filename="content.csv"'
        assert "content-length" not in reply.headers  # streamed
        header, *rows = list(csv.reader(io.StringIO(reply.body, newline="")))
        matching = expected(sql, header, WHERE, ORDER)
        assert 0 < len(matching) <= 50
        assert rows == [["" if v is None else v for v in row] for row in matching]

    def test_csv_tells_null_from_empty(self, client: Client) -> None:
        """NULL is an empty unquoted field, the empty string ``""``."""
        params = {"fc": "slug", "fo": "eq", "fv": "slug-3"}
        null_line = client.get("/t/content/export", format="csv", **params).body.splitlines()[1]
        assert ",," in null_line or null_line.endswith(",")  # published_at is NULL
        params["fv"] = "slug-4"
        empty_line = client.get("/t/content/export", format="csv", **params).body.splitlines()[1]
        assert ',"",' in empty_line  # title is ''

    def test_json_matches_and_says_when_cut(self, client: Client, sql: Any) -> None:
        """JSON has columns, rows and ``truncated``; the limit (50 here) cuts the export."""
        reply = client.get("/t/content/export", format="json", deleted="show")
        assert reply.status == 200 and reply.headers["content-type"] == "application/json"
        export = msgspec.json.decode(reply.body, type=Export)
        assert export.truncated and len(export.rows) == 50
        assert export.rows == expected(sql, export.columns, "true", "id")[:50]
        reply = client.get("/t/content/export", format="json", deleted="only")
        export = msgspec.json.decode(reply.body, type=Export)
        assert not export.truncated and len(export.rows) == DELETED_CONTENT

    def test_export_over_several_batches(
        self, db_url: str, sql: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """More rows than one cursor batch arrive whole and in order."""
        monkeypatch.setattr(_export, "BATCH_ROWS", 7)
        with running(db_url, export_rows=CONTENT_ROWS) as server:
            reply = Client(server).login().get("/t/content/export", format="json", deleted="show")
        export = msgspec.json.decode(reply.body, type=Export)
        assert not export.truncated
        assert export.rows == expected(sql, export.columns, "true", "id")

    def test_empty_view(self, client: Client) -> None:
        """No matching rows: just the header, or an empty list."""
        params = {"fc": "title", "fo": "eq", "fv": "no such title"}
        assert client.get("/t/content/export", format="csv", **params).body.count("\n") == 1
        export = msgspec.json.decode(
            client.get("/t/content/export", format="json", **params).body, type=Export
        )
        assert export.rows == [] and not export.truncated

    @pytest.mark.parametrize(
        ("query", "status", "message"),
        [
            ({"format": "xml"}, 400, "unknown export format"),
            ({"fc": "nope", "fo": "eq", "fv": "1"}, 400, "nope"),
            ({"fc": "view_count", "fo": "gte", "fv": "abc"}, 400, "invalid input syntax"),
        ],
    )
    def test_bad_requests_are_error_pages(
        self, client: Client, query: dict[str, str], status: int, message: str
    ) -> None:
        """A bad format, column or value is an error page, not a broken file."""
        reply = client.get("/t/content/export", **query)
        assert reply.status == status and message in reply.body
        assert "content-disposition" not in reply.headers

    def test_slow_view_is_a_504_not_a_broken_file(self, fresh_database: Callable[..., str]) -> None:
        """The first batch is read before answering: a page timeout is an error page."""
        url = fresh_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE VIEW slow AS SELECT pg_sleep(3)::text AS v")
        with running(url, page_timeout=0.5) as server:
            reply = Client(server).login().get("/t/slow/export", format="csv")
        assert reply.status == 504 and "content-disposition" not in reply.headers

    def test_needs_the_cookie(self, studio: StudioServer) -> None:
        """Exports are behind the token like every page."""
        assert Client(studio).get("/t/content/export", format="csv").status == 403

    def test_odd_names_make_safe_filenames(self, client: Client) -> None:
        """A table name with quotes and slashes gives a plain file name."""
        reply = client.request("GET", WEIRD_PATH + "/export?" + urlencode({"format": "csv"}))
        assert reply.status == 200
        assert reply.headers["content-disposition"] == (
            'attachment; filename="other.50__off_b_.csv"'
        )

    def test_table_page_links_the_export_of_its_view(self, client: Client) -> None:
        """The toolbar's links carry the page's filters and sort."""
        body = client.get("/t/content", **FILTER).body
        assert "export the first 50 matching rows" in body
        params = [("sort", "published_at"), ("dir", "desc")]
        params += [("fc", "view_count"), ("fo", "gte"), ("fv", "5"), ("format", "csv")]
        query = urlencode(params).replace("&", "&amp;")
        assert f'href="/t/content/export?{query}"' in body
