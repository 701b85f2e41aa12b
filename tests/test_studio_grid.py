"""codex-db studio's data browser over HTTP: the grid, pages both ways, counts, EXPLAIN, schema.

Each test talks to a real studio in front of a real migrated database (the
seed of tests/test_studio.py plus a few values that need a readable form);
inline edits run against a database of their own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest

from codex_db.studio import StudioServer
from codex_db.testing import TestServer
from tests.test_studio import ORG_A, Client, matching, running, seeded

CONTENT_COLUMNS = 21
LONG = "A long description. " * 20
EXTRA = f"""
UPDATE content SET description = '{LONG}',
    tags = '["basics", {{"level": 2}}]',
    published_at = '2024-05-06 07:08:09.123456+00'
WHERE title = 'Title 1';
ALTER TABLE x ENABLE ROW LEVEL SECURITY;
CREATE POLICY x_positive ON x FOR SELECT TO PUBLIC USING (id > 0);
CREATE TABLE tagged (id int PRIMARY KEY, labels text[]);
INSERT INTO tagged VALUES (1, ARRAY['a', 'b c', NULL, 'd"e']);
"""


def seeded_more(pg_server: TestServer, template: str) -> str:
    """The test_studio seed, the values above, and a server time zone that is not UTC."""
    name = seeded(pg_server, template)
    with psycopg.connect(pg_server.database_url(name), autocommit=True) as conn:
        conn.execute(EXTRA)
        conn.execute(f"ALTER DATABASE {name} SET timezone = 'America/New_York'")
    return name


@pytest.fixture(scope="module")
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """The database of the read-only tests."""
    name = seeded_more(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def studio(db_url: str) -> Iterator[StudioServer]:
    """A read-only studio."""
    with running(db_url) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Client:
    """A client holding the studio cookie."""
    return Client(studio).login()


@pytest.fixture(scope="module")
def sql(db_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run a query on the database and return its rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:

        def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(query, params or None).fetchall()

        yield run


def headers(body: str) -> list[str]:
    """The column names of the rows grid, in order."""
    head = re.search(r'<table class="rows"[^>]*><thead>(.*?)</thead>', body, re.S)
    assert head, body[:2000]
    return [html.unescape(t).rstrip(" ▲▼") for t in re.findall(r"<a [^>]*>([^<]*)</a>", head[1])]


def cell(body: str, column: str) -> str:
    """The first row's ``<td>`` of *column*, as sent."""
    index = headers(body).index(column) + 1  # after the row-link column
    row = re.search(r"<tbody><tr[^>]*>(.*?)</tr>", body, re.S)
    assert row
    cells: list[str] = re.findall(r"<td.*?</td>", row[1], re.S)
    return cells[index]


def keys(body: str) -> list[str]:
    """The content row keys of a table page, in page order."""
    return re.findall(r'href="/t/content/row\?k=([0-9a-f-]+)">open<', body)


def follow(client: Client, body: str, rel: str) -> str | None:
    """The page behind the ``rel`` (next or prev) link, or ``None`` when there is none."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', body)
    if found is None:
        return None
    reply = client.request("GET", html.unescape(found[1]))
    assert reply.status == 200, reply.body[:2000]
    return reply.body


class TestGrid:
    def test_header_and_first_column_are_pinned(self, client: Client) -> None:
        """The row link and the first shown column are sticky; the grid scrolls in its box."""
        body = client.get("/t/content").body
        assert '<div class="grid"><table class="rows" data-table="content">' in body
        assert '<thead><tr><th class="pin open"></th><th class="pin pin2">' in body
        assert re.search(r'<tr><td class="pin open"><a href="/t/content/row\?k=', body)
        css = client.get("/static/studio.css").body
        assert "table.rows thead th{position:sticky;top:0" in css
        assert "table.rows .pin{position:sticky;left:0" in css

    def test_long_text_is_cut_with_the_whole_value_in_the_tooltip(self, client: Client) -> None:
        """A long value shows its first 120 characters; ``title`` holds all of it."""
        body = client.get("/t/content", fc="title", fo="eq", fv="Title 1").body
        td = cell(body, "description")
        assert f'title="{LONG}"' in td
        assert f">{LONG[:119]}…</td>" in td

    def test_json_and_arrays_are_pretty_printed(self, client: Client, sql: Any) -> None:
        """JSON and array values get an indented tooltip, and an indented block on the row page."""
        body = client.get("/t/content", fc="title", fo="eq", fv="Title 1").body
        pretty = '[\n  "basics",\n  {\n    "level": 2\n  }\n]'
        assert f'title="{html.escape(pretty)}"' in cell(body, "tags")
        (key,) = sql("SELECT id::text FROM content WHERE title = 'Title 1'")[0]
        row = client.get("/t/content/row", k=key).body
        assert f'<pre class="value">{html.escape(pretty)}</pre>' in row
        array = client.get("/t/tagged/row", k="1").body
        listed = '[\n  "a",\n  "b c",\n  null,\n  "d\\"e"\n]'
        assert f'<pre class="value">{html.escape(listed)}</pre>' in array

    def test_timestamps_read_in_utc_whatever_the_server_time_zone(self, client: Client) -> None:
        """The database's TimeZone is New York; pages show UTC, fractions in the tooltip."""
        body = client.get("/t/content", fc="title", fo="eq", fv="Title 1").body
        td = cell(body, "published_at")
        assert td == '<td title="2024-05-06 07:08:09.123456+00">2024-05-06 07:08:09 UTC</td>'

    def test_column_picker_shows_the_chosen_columns(self, client: Client) -> None:
        """``col`` picks columns, kept in table order; sort, filter and page links keep it."""
        query = urlencode([("col", "status"), ("col", "title"), ("sort", "title")])
        body = client.request("GET", f"/t/content?{query}").body
        assert headers(body) == ["title", "status"]
        next_link = re.search(r'<a href="([^"]+)" rel="next">', body)
        assert next_link and "col=title&amp;col=status" in next_link[1]
        assert '<input type="hidden" name="col" value="title">' in body  # in the filter form
        boxes = re.findall(r'<input type="checkbox" name="col" value="([^"]+)"( checked)?>', body)
        assert [n for n, on in boxes if on] == ["title", "status"]
        assert len(boxes) == CONTENT_COLUMNS
        export = re.search(r'href="(/t/content/export[^"]+)"', body)
        assert export and "col=" not in export[1]  # exports have every column

    def test_blank_columns_mean_all_and_unknown_ones_are_refused(self, client: Client) -> None:
        """``col=`` (the picker's "all") shows every column; an unknown name is a 400."""
        assert len(headers(client.get("/t/content", col="").body)) == CONTENT_COLUMNS
        reply = client.get("/t/content", col="nope")
        assert reply.status == 400 and "unknown column &#x27;nope&#x27;" in reply.body


class TestPages:
    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"sort": "published_at", "dir": "asc"},
            {"sort": "published_at", "dir": "desc"},
            {"sort": "view_count", "dir": "desc", "limit": "7"},
            {"sort": "title", "dir": "asc", "limit": "9", "deleted": "show"},
        ],
    )
    def test_previous_pages_retrace_the_next_pages(
        self, client: Client, params: dict[str, str]
    ) -> None:
        """Going back from the last page shows each page again, with its rows in order.

        The sorts include ties and NULLs (published_at is NULL for a third of
        the rows), where the keyset cursor has to cross from values to NULLs.
        """
        body = client.get("/t/content", **params).body
        forwards = [keys(body)]
        assert follow(client, body, "prev") is None  # the first page has no previous
        while (following := follow(client, body, "next")) is not None:
            body = following
            forwards.append(keys(body))
        assert re.search(r'<a href="[^"]*before=[^"]*" rel="prev">previous page</a>', body)
        backwards = [keys(body)]
        while (previous := follow(client, body, "prev")) is not None:
            body = previous
            backwards.append(keys(body))
        assert len(forwards) > 2 and backwards[::-1] == forwards

    def test_offset_pages_go_back_too(self, client: Client) -> None:
        """A table without a key pages by offset, previous included."""
        body = client.get("/t/nokey", sort="n", offset="50").body
        previous = re.search(r'<a href="([^"]+)" rel="prev">previous page</a>', body)
        assert previous and "offset=0" in previous[1]
        assert 'rel="next"' not in body

    def test_forged_before_cursor_is_a_400(self, client: Client) -> None:
        """A previous-page cursor of the wrong shape is refused like a next-page one."""
        assert client.get("/t/content", before='["a", "b", "c"]').status == 400


class TestCounts:
    def test_large_tables_show_the_planner_estimate(
        self, db_url: str, sql: Any, client: Client
    ) -> None:
        """Above the limit the count is ``~N``: reltuples unfiltered, EXPLAIN's rows filtered."""
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("ANALYZE content")
        (reltuples,) = sql("SELECT reltuples::bigint FROM pg_class WHERE relname = 'content'")[0]
        with running(db_url, exact_count_limit=10) as small:
            limited = Client(small).login()
            body = limited.get("/t/content", deleted="show").body
            assert f"~{reltuples} matching rows (the planner&#x27;s estimate)" in body
            filtered = limited.get("/t/content", fc="view_count", fo="gte", fv="1").body
            estimate = re.search(r"~(\d+) matching rows", filtered)
            assert estimate and 0 < int(estimate[1]) <= reltuples
            listing = limited.get("/").body
            assert re.search(rf">content</a></td><td>table</td><td>~{reltuples}</td>", listing)
            assert re.search(r">users</a></td><td>table</td><td>3</td>", listing)  # under 10
        assert matching(client.get("/t/content")) == 108  # the default limit: exact


class TestExplain:
    def test_explain_shows_the_plan_as_a_tree(self, client: Client) -> None:
        """EXPLAIN renders node types, relations, costs and rows as nested lists."""
        query = (
            "SELECT c.title, o.name FROM content c JOIN organizations o"
            " ON o.id = c.organization_id WHERE c.view_count > 3"
        )
        reply = client.post("/sql", [("q", query), ("mode", "explain")])
        assert reply.status == 200, reply.body
        assert '<ul class="plan top"><li><span class="node">' in reply.body
        assert re.search(r'on <span class="rel">content c</span>', reply.body)
        assert re.search(r'on <span class="rel">organizations o</span>', reply.body)
        assert re.search(r"cost \d+\.\d\d\.\.\d+\.\d\d rows \d+ width \d+", reply.body)
        assert "filter: (view_count &gt; 3)" in reply.body
        assert "actual" not in reply.body  # not run

    def test_explain_analyze_runs_a_read_and_shows_actual_figures(self, client: Client) -> None:
        """EXPLAIN ANALYZE adds actual time, rows, loops, buffers and the execution time."""
        query = "SELECT count(*) FROM content WHERE view_count > 3"
        reply = client.post("/sql", [("q", query + ";"), ("mode", "analyze")])
        assert reply.status == 200, reply.body
        assert re.search(r"actual \d+\.\d{3}\.\.\d+\.\d{3} ms rows \d+ loops 1", reply.body)
        assert re.search(r"buffers shared hit \d+", reply.body)
        assert re.search(r"execution \d+\.\d{3} ms", reply.body)

    @pytest.mark.parametrize(
        "query",
        ["DELETE FROM x", "UPDATE users SET name = 'x'", "DO $$ BEGIN END $$", "EXPLAIN SELECT 1"],
    )
    def test_explain_analyze_refuses_what_is_not_a_read(
        self, client: Client, sql: Any, query: str
    ) -> None:
        """ANALYZE would run the statement: only SELECT, WITH, TABLE and VALUES are taken."""
        reply = client.post("/sql", [("q", query), ("mode", "analyze")])
        assert reply.status == 400
        assert "EXPLAIN ANALYZE runs the statement" in reply.body or "EXPLAIN already" in reply.body
        assert sql("SELECT to_regclass('x') IS NOT NULL, count(*) FROM users") == [(True, 3)]

    def test_a_write_hidden_in_a_read_still_fails_read_only(self, client: Client, sql: Any) -> None:
        """A data-modifying WITH passes the first-word check and fails in the read-only role."""
        (before,) = sql("SELECT count(*) FROM sessions")[0]
        query = "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone"
        reply = client.post("/sql", [("q", query), ("mode", "analyze")])
        assert reply.status == 400
        assert "read-only transaction" in reply.body
        assert sql("SELECT count(*) FROM users") == [(3,)]
        assert sql("SELECT count(*) FROM sessions") == [(before,)]

    def test_explain_of_a_write_is_refused_by_the_reader_role(
        self, client: Client, sql: Any
    ) -> None:
        """Even planning a DELETE needs the right to delete, which the console's role lacks."""
        reply = client.post("/sql", [("q", "DELETE FROM x WHERE id > 0"), ("mode", "explain")])
        assert reply.status == 400
        assert "permission denied for table x" in reply.body
        assert sql("SELECT to_regclass('x') IS NOT NULL") == [(True,)]

    def test_unknown_mode_and_missing_csrf_are_refused(self, client: Client) -> None:
        """A made-up mode is a 400; EXPLAIN needs the form's CSRF token like any console POST."""
        assert client.post("/sql", [("q", "SELECT 1"), ("mode", "drop")]).status == 400
        refused = client.post("/sql", [("q", "SELECT 1"), ("mode", "explain")], csrf=False)
        assert refused.status == 403


class TestSchema:
    def test_policies_triggers_and_indexes_per_table(self, client: Client) -> None:
        """/schema shows row-level security, pg_policies, the trigger registry and indexes."""
        body = client.get("/schema").body
        section = body[body.index('<h2 id="t-x">') :]
        section = section[: section.index("</section>")]
        assert "row-level security: <b>on</b>" in section
        assert "<td>x_positive</td><td>SELECT</td><td>permissive</td><td>public</td>" in section
        assert "<td>(id &gt; 0)</td>" in section
        users = body[body.index('<h2 id="t-users">') :]
        users = users[: users.index("</section>")]
        assert "row-level security: <b>off</b>" in users
        assert "<td>trigger_end_sessions_on_user_soft_delete</td>" in users
        assert "<td>installed</td>" in users
        assert "idx_users_email_lower" in users
        assert '<a href="/schema">Schema</a>' in body


@pytest.fixture
def write_db(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A database of its own for the tests that commit."""
    name = seeded(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


class TestInlineEdit:
    def test_cells_carry_what_the_inline_editor_posts(self, write_db: str, client: Client) -> None:
        """With --write, rows carry their key and editable cells their exact value; not without."""
        assert "data-col=" not in client.get("/t/content").body  # read-only studio
        with running(write_db, write=True) as server:
            body = Client(server).login().get("/t/organizations", sort="name").body
        assert f'data-edit="/t/organizations/preview" data-csrf="{server.ctx.csrf}"' in body
        assert f'<tr data-k="[&quot;{ORG_A}&quot;]">' in body
        assert 'data-col="name" data-v="Org A">Org A</td>' in body
        assert 'data-col="description" data-null="1">null</td>' in body

    def test_inline_edit_previews_then_applies_and_returns(self, write_db: str) -> None:
        """The inline form goes through the preview page, then "run it" returns to the grid."""
        back = "/t/organizations?sort=name&dir=asc&col=name&col=slug"
        fields = [("action", "update"), ("k", ORG_A), ("v.name", "Org A2"), ("back", back)]
        with running(write_db, write=True) as server:
            client = Client(server).login()
            preview = client.post("/t/organizations/preview", fields)
            assert preview.status == 200, preview.body
            assert 'SET "name" = \'Org A2\' WHERE "id"' in html.unescape(preview.body)
            assert f'<a href="{html.escape(back)}">cancel</a>' in preview.body
            with psycopg.connect(write_db) as conn:  # nothing written yet
                assert conn.execute(
                    f"SELECT name FROM organizations WHERE id = '{ORG_A}'"
                ).fetchone() == ("Org A",)
            applied = client.post("/t/organizations/apply", fields)
            assert applied.status == 303
            assert applied.headers["location"] == back + "&msg=updated"
            assert "Row updated." in client.request("GET", applied.headers["location"]).body
            unchanged = client.post("/t/organizations/preview", fields)
            assert unchanged.headers["location"] == back + "&msg=unchanged"
        with psycopg.connect(write_db) as conn:
            row = conn.execute(f"SELECT name FROM organizations WHERE id = '{ORG_A}'").fetchone()
        assert row == ("Org A2",)

    @pytest.mark.parametrize(
        "back", ["//evil.example/t/organizations", "http://evil.example/", "/t/users?x=1", "/sql"]
    )
    def test_back_must_be_this_tables_page(self, write_db: str, back: str) -> None:
        """``back`` leads only to this table's page: other origins and pages are a 400."""
        fields = [("action", "update"), ("k", ORG_A), ("v.name", "Evil"), ("back", back)]
        with running(write_db, write=True) as server:
            reply = Client(server).login().post("/t/organizations/apply", fields)
        assert reply.status == 400 and "back must be a page of table" in reply.body
        with psycopg.connect(write_db) as conn:
            row = conn.execute(f"SELECT name FROM organizations WHERE id = '{ORG_A}'").fetchone()
        assert row == ("Org A",)
