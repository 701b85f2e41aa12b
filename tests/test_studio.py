"""codex-db studio over HTTP: security rules, browsing, relations, console, tools, launch.

Every test talks to a real studio server (a thread on an ephemeral port) in
front of a real migrated database; nothing is mocked but the blocking
``serve()`` call in the launcher tests.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
import psycopg
import pytest

from codex_db.studio import StudioServer, main, make_server
from codex_db.studio import _launch as launch
from codex_db.testing import TestServer
from codex_db.triggers import DATABASE_TRIGGERS

ORG_A = "00000000-0000-0000-0000-0000000000a1"
ORG_B = "00000000-0000-0000-0000-0000000000b2"
SCRIPT = "<script>alert(1)</script>"
CONTENT_ROWS = 120
DELETED_CONTENT = 12  # every tenth row

SEED = f"""
INSERT INTO users (id, name, email, deleted_at) VALUES
    ('u1', 'Ann', 'ann@example.com', NULL),
    ('u2', '{SCRIPT}', 'script@example.com', NULL),
    ('u3', 'Gone', 'gone@example.com', now());
INSERT INTO organizations (id, name, slug, owner_id) VALUES
    ('{ORG_A}', 'Org A', 'org-a', 'u1'), ('{ORG_B}', 'Org B', 'org-b', 'u2');
INSERT INTO content (creator_id, organization_id, title, slug, content_type, view_count,
                     price_cents, published_at, deleted_at)
SELECT 'u1', '{ORG_A}', 'Title ' || i, 'slug-' || i, 'written', i % 7, i * 10,
       CASE WHEN i % 3 = 0 THEN NULL ELSE '2024-01-01'::timestamptz + i * interval '1 day' END,
       CASE WHEN i % 10 = 0 THEN now() END
FROM generate_series(1, {CONTENT_ROWS}) AS i;
CREATE TABLE x (id int PRIMARY KEY);
CREATE VIEW published_content AS
    SELECT id, title, published_at FROM content WHERE published_at IS NOT NULL;
CREATE TABLE nokey (n int, label text);
INSERT INTO nokey SELECT i, 'n' || i FROM generate_series(1, 70) AS i;
CREATE TABLE pairs (a int, b text, score int, PRIMARY KEY (a, b));
INSERT INTO pairs SELECT i % 5, 'b' || i, i % 3 FROM generate_series(1, 130) AS i;
CREATE SCHEMA other;
CREATE TABLE other."50%_off/<b>" (id int PRIMARY KEY, "a""b%" text);
INSERT INTO other."50%_off/<b>" VALUES (1, 'x'), (2, NULL);
"""
WEIRD = "other.50%_off/<b>"
WEIRD_PATH = "/t/other.50%25_off%2F%3Cb%3E"


class Reply(msgspec.Struct):
    """A response as the tests see it."""

    status: int
    headers: dict[str, str]
    body: str


class Client:
    """A tiny browser: keeps the studio cookie, sends same-origin POSTs with the CSRF token."""

    def __init__(self, server: StudioServer) -> None:
        self.server = server
        self.address = str(server.server_address[0])
        self.port = server.server_address[1]
        self.origin = server.guard.origin
        self.cookie = ""

    def login(self) -> Client:
        """Trade the printed token for the cookie, as a browser opening the start URL does."""
        reply = self.request("GET", "/?" + urlencode({"token": self.server.guard.token}))
        assert reply.status == 303
        self.cookie = reply.headers["set-cookie"].split(";")[0]
        return self

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> Reply:
        """Send one request on a fresh connection and read the whole answer.

        It goes to the bound address with the studio's own ``Host`` (its
        ``.localhost`` name), as a browser resolving that name sends it.
        """
        sent = {"Host": self.server.guard.netloc}
        if self.cookie:
            sent["Cookie"] = self.cookie
        if body:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        conn = http.client.HTTPConnection(self.address, self.port, timeout=30)
        try:
            conn.request(method, path, body=body.encode() or None, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
            found = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, found, text)
        finally:
            conn.close()

    def get(self, path: str, **params: str) -> Reply:
        """GET *path* with query *params*."""
        return self.request("GET", path + (f"?{urlencode(params)}" if params else ""))

    def post(
        self,
        path: str,
        fields: list[tuple[str, str]],
        *,
        origin: str | None = "same",
        csrf: bool = True,
    ) -> Reply:
        """POST a form as a page of the studio would (or, with *origin*/*csrf*, as another)."""
        if csrf:
            fields = [("csrf", self.server.ctx.csrf), *fields]
        headers = {} if origin is None else {"Origin": self.origin if origin == "same" else origin}
        return self.request("POST", path, urlencode(fields), headers)


@contextmanager
def running(url: str, **options: Any) -> Iterator[StudioServer]:
    """A studio for *url* serving in a thread on a free port, shut down afterwards."""
    server = make_server(url, port=0, quiet=True, **options)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def seeded(pg_server: TestServer, template: str) -> str:
    """A new migrated database with the seed rows; returns its name."""
    name = pg_server.create_database(template=template)
    with psycopg.connect(pg_server.database_url(name)) as conn:
        conn.execute(SEED)
    return name


def content_keys(reply: Reply) -> list[str]:
    """The content row keys of a table page, in page order."""
    return re.findall(r'href="/t/content/row\?k=([0-9a-f-]+)">open<', reply.body)


def all_pages(client: Client, path: str, **params: str) -> list[str]:
    """Follow the "next page" links from the first page and collect every content key."""
    keys: list[str] = []
    reply = client.get(path, **params)
    for _ in range(20):
        assert reply.status == 200, reply.body
        keys += content_keys(reply)
        following = re.search(r'<a href="([^"]+)" rel="next">next page</a>', reply.body)
        if following is None:
            return keys
        reply = client.get(following.group(1).replace("&amp;", "&"))
    raise AssertionError("more than 20 pages")


def matching(reply: Reply) -> int:
    """The "N matching rows" count of a table page."""
    found = re.search(r"(\d+) matching rows?", reply.body)
    assert found, reply.body[:2000]
    return int(found.group(1))


@pytest.fixture(scope="module")
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A seeded database shared by the read-only tests of this module."""
    name = seeded(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def studio(db_url: str) -> Iterator[StudioServer]:
    """A read-only studio with a short console timeout."""
    with running(db_url, console_timeout=0.5, console_rows=100) as server:
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


class TestAccessToken:
    @pytest.mark.parametrize(
        "path", ["/", "/t/users", "/sql", "/triggers", "/static/studio.css", "/static/studio.js"]
    )
    def test_request_without_token_is_forbidden(self, studio: StudioServer, path: str) -> None:
        """Without the token (URL or cookie) every route answers 403."""
        assert Client(studio).get(path).status == 403

    def test_wrong_token_and_wrong_cookie_are_forbidden(self, studio: StudioServer) -> None:
        """A wrong token in the URL or the cookie is refused too."""
        anonymous = Client(studio)
        assert anonymous.get("/", token="nope").status == 403
        anonymous.cookie = f"{studio.guard.cookie_name}=nope"
        assert anonymous.get("/").status == 403

    def test_token_becomes_httponly_strict_cookie(self, studio: StudioServer) -> None:
        """The start URL sets an HttpOnly SameSite=Strict cookie and redirects without the token."""
        anonymous = Client(studio)
        query = urlencode({"token": studio.guard.token, "sort": "name"})
        reply = anonymous.request("GET", f"/t/users?{query}")
        assert reply.status == 303
        assert reply.headers["location"] == f"{studio.guard.origin}/t/users?sort=name"
        cookie = reply.headers["set-cookie"]
        assert cookie.startswith(f"{studio.guard.cookie_name}={studio.guard.token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        anonymous.cookie = cookie.split(";")[0]
        assert anonymous.get("/t/users", sort="name").status == 200

    def test_start_url_is_loopback_with_token(self, studio: StudioServer) -> None:
        """The printed URL is on a .localhost name of this run, on 127.0.0.1, with the token."""
        parts = urlsplit(studio.start_url)
        assert re.fullmatch(r"studio-[0-9a-f]{8}\.localhost", parts.hostname or "")
        assert studio.server_address[0] == "127.0.0.1"
        assert parts.query == f"token={studio.guard.token}"

    def test_stylesheet_is_served_locally(self, client: Client) -> None:
        """The only assets are the package's own stylesheet and script; nothing external."""
        reply = client.get("/static/studio.css")
        assert reply.status == 200 and reply.headers["content-type"].startswith("text/css")
        script = client.get("/static/studio.js")
        assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
        assert "localStorage" in script.body
        body = client.get("/t/users").body
        assert re.search(r'(src|href)="(https?:)?//', body) is None
        assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/studio.js" defer>']

    def test_security_headers(self, client: Client) -> None:
        """Pages allow only their own script and style, no framing, no caching."""
        headers = client.get("/").headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src 'self';" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


class TestPostRules:
    def test_cross_origin_post_is_refused(self, client: Client) -> None:
        """A POST from another origin is refused even with the cookie and CSRF token."""
        reply = client.post("/sql", [("q", "SELECT 1")], origin="http://evil.example")
        assert reply.status == 403
        assert "cross-origin" in reply.body

    def test_post_without_origin_or_referer_is_refused(self, client: Client) -> None:
        """Neither Origin nor Referer: refused."""
        assert client.post("/sql", [("q", "SELECT 1")], origin=None).status == 403

    def test_same_origin_referer_is_enough(self, client: Client) -> None:
        """Without Origin, a same-origin Referer passes."""
        body = urlencode([("csrf", client.server.ctx.csrf), ("q", "SELECT 1")])
        headers = {"Referer": f"{client.origin}/sql"}
        assert client.request("POST", "/sql", body, headers).status == 200

    def test_post_without_csrf_token_is_refused(self, client: Client) -> None:
        """A same-origin POST without the form's CSRF token is refused."""
        assert client.post("/sql", [("q", "SELECT 1")], csrf=False).status == 403


class TestTableList:
    def test_lists_tables_with_row_counts(self, client: Client) -> None:
        """The index lists the project's tables with exact counts, not yoyo's."""
        body = client.get("/").body
        for table, count in (("content", CONTENT_ROWS), ("users", 3), ("organizations", 2)):
            assert re.search(rf">{table}</a></td><td>table</td><td>{count}</td>", body), table
        assert "_yoyo_migration" not in body

    def test_structure_shows_types_constraints_and_indexes(self, client: Client) -> None:
        """A table page shows column types, constraints, indexes and registered triggers."""
        body = client.get("/t/users").body
        assert "timestamp with time zone" in body
        assert "users_email_unique" in body and "UNIQUE (email)" in body
        assert "idx_users_email_lower" in body
        assert "trigger_end_sessions_on_user_soft_delete" in body


class TestBrowse:
    def test_keyset_pages_cover_every_row_once(self, client: Client, sql: Any) -> None:
        """Following "next page" from the first page yields every visible row once, in key order."""
        keys = all_pages(client, "/t/content")
        expected = sql("SELECT id::text FROM content WHERE deleted_at IS NULL ORDER BY id")
        assert keys == [k for (k,) in expected]
        assert "after=" in client.get("/t/content").body  # keyset, not offset

    @pytest.mark.parametrize(
        ("sort", "direction"),
        [
            ("view_count", "desc"),
            ("price_cents", "desc"),  # 10 to 1200: as numbers, not as text
            ("published_at", "asc"),
            ("published_at", "desc"),
            ("title", "asc"),
        ],
    )
    def test_sorted_pages_with_ties_and_nulls(
        self, client: Client, sql: Any, sort: str, direction: str
    ) -> None:
        """Sorting by a column with ties and nulls pages through the same order as SQL."""
        keys = all_pages(client, "/t/content", sort=sort, dir=direction)
        order = f"{sort} {direction} NULLS LAST, id {direction}"
        expected = sql(f"SELECT id::text FROM content WHERE deleted_at IS NULL ORDER BY {order}")
        assert keys == [k for (k,) in expected]

    @pytest.mark.parametrize(
        ("params", "where"),
        [
            ({"fc": "title", "fo": "eq", "fv": "Title 7"}, "title = 'Title 7'"),
            ({"fc": "title", "fo": "contains", "fv": "itle 1"}, "title LIKE '%itle 1%'"),
            ({"fc": "published_at", "fo": "null"}, "published_at IS NULL"),
            ({"fc": "published_at", "fo": "notnull"}, "published_at IS NOT NULL"),
            ({"fc": "view_count", "fo": "gte", "fv": "5"}, "view_count >= 5"),
            ({"fc": "price_cents", "fo": "lte", "fv": "300"}, "price_cents <= 300"),
            ({"fc": "view_count", "fo": "ne", "fv": "0"}, "view_count <> 0"),
        ],
    )
    def test_filters(self, client: Client, sql: Any, params: dict[str, str], where: str) -> None:
        """Each filter operator selects the rows its SQL counterpart selects."""
        query = f"SELECT count(*) FROM content WHERE deleted_at IS NULL AND {where}"
        assert matching(client.get("/t/content", **params)) == sql(query)[0][0]

    def test_date_range_filter(self, client: Client, sql: Any) -> None:
        """Two range filters on a timestamp column combine into a date range."""
        fields = [
            ("fc", "published_at"),
            ("fo", "gte"),
            ("fv", "2024-02-01"),
            ("fc", "published_at"),
            ("fo", "lte"),
            ("fv", "2024-03-01"),
        ]
        reply = client.request("GET", "/t/content?" + urlencode(fields))
        where = "published_at BETWEEN '2024-02-01' AND '2024-03-01' AND deleted_at IS NULL"
        assert matching(reply) == sql(f"SELECT count(*) FROM content WHERE {where}")[0][0] > 0

    def test_contains_treats_wildcards_literally(self, client: Client) -> None:
        """``%`` typed in a contains filter matches a percent sign, not everything."""
        assert matching(client.get("/t/content", fc="title", fo="contains", fv="%")) == 0

    def test_soft_deleted_rows_hidden_by_default(self, client: Client) -> None:
        """deleted_at rows are hidden by default, shown or isolated with the toggle."""
        visible = CONTENT_ROWS - DELETED_CONTENT
        assert matching(client.get("/t/content")) == visible
        assert matching(client.get("/t/content", deleted="show")) == CONTENT_ROWS
        assert matching(client.get("/t/content", deleted="only")) == DELETED_CONTENT
        assert len(all_pages(client, "/t/content", deleted="show")) == CONTENT_ROWS
        assert client.get("/t/content", deleted="only").body.count('<tr class="deleted">') == 12
        assert "show deleted" in client.get("/t/content").body

    def test_tables_without_deleted_at_have_no_toggle(self, client: Client) -> None:
        """Only tables with deleted_at offer the toggle."""
        assert "show deleted" not in client.get("/t/sessions").body

    def test_invalid_filter_value_is_a_400_with_the_database_message(self, client: Client) -> None:
        """A value the column type cannot parse is reported, not a crash."""
        reply = client.get("/t/content", fc="view_count", fo="gte", fv="abc")
        assert reply.status == 400
        assert "invalid input syntax for type integer" in reply.body

    def test_forged_cursor_is_a_400(self, client: Client) -> None:
        """A page cursor of the wrong shape is refused."""
        assert client.get("/t/content", after='["a", "b", "c"]').status == 400
        assert client.get("/t/content", after="not json").status == 400


class TestOtherShapes:
    def test_view_pages_by_offset_without_row_links(self, client: Client, sql: Any) -> None:
        """A view has no key: offset pages still cover every row, with no row pages."""
        reply = client.get("/t/published_content", sort="title")
        assert reply.status == 200 and "offset=50" in reply.body
        assert "/t/published_content/row" not in reply.body
        assert matching(reply) == sql("SELECT count(*) FROM published_content")[0][0]

    def test_table_without_key_pages_by_offset(self, client: Client) -> None:
        """Offset pages of a table without a primary key cover every row once."""
        seen: list[str] = []
        for offset in ("0", "50"):
            body = client.get("/t/nokey", sort="n", offset=offset).body
            seen += re.findall(r"<td>(n\d+)</td>", body)
        assert seen == [f"n{i}" for i in range(1, 71)]  # sorted by n as a number
        assert "next page" not in client.get("/t/nokey", offset="50").body

    def test_composite_key_keyset_pages(self, client: Client, sql: Any) -> None:
        """A two-column key pages by keyset, sorted or not, and opens rows by both values."""
        for params in ({}, {"sort": "score", "dir": "desc"}):
            keys: list[str] = []
            reply = client.get("/t/pairs", **params)
            while True:
                keys += re.findall(r'href="/t/pairs/row\?([^"]+)">open<', reply.body)
                following = re.search(r'<a href="([^"]+)" rel="next">next page</a>', reply.body)
                if following is None:
                    break
                reply = client.get(following.group(1).replace("&amp;", "&"))
            order = "score DESC NULLS LAST, a DESC, b DESC" if params else "a, b"
            expected = sql(f"SELECT a, b FROM pairs ORDER BY {order}")
            assert keys == [f"k={a}&amp;k={b}" for a, b in expected]
        assert client.get("/t/pairs/row", k="1").status == 400
        reply = client.request("GET", "/t/pairs/row?k=1&k=b1")
        assert reply.status == 200 and "<td>b1</td>" in reply.body

    def test_names_needing_quotes(self, client: Client) -> None:
        """A table in another schema with quotes, ``%`` and markup in its names works."""
        escaped = WEIRD.replace("<", "&lt;").replace(">", "&gt;")
        assert f'<a href="{WEIRD_PATH}">{escaped}</a>' in client.get("/").body
        reply = client.request("GET", WEIRD_PATH + "?sort=a%22b%25&fc=a%22b%25&fo=null")
        assert reply.status == 200, reply.body
        assert matching(reply) == 1
        reply = client.request("GET", WEIRD_PATH + "/row?k=1")
        assert reply.status == 200 and "<td>x</td>" in reply.body


class TestRelations:
    def test_foreign_key_values_link_to_the_referenced_row(self, client: Client) -> None:
        """A content row links its organization and creator to their row pages."""
        body = client.get("/t/content").body
        assert f'href="/t/organizations/row?k={ORG_A}"' in body
        assert 'href="/t/users/row?k=u1"' in body
        assert client.get("/t/organizations/row", k=ORG_A).status == 200

    def test_row_page_lists_referencing_rows(self, client: Client) -> None:
        """An organization's page shows its content and links to all of it."""
        body = client.get("/t/organizations/row", k=ORG_A).body
        visible = CONTENT_ROWS - DELETED_CONTENT
        assert f"all {visible} in content" in body
        assert "content_organization_id_organizations_id_fk" in body
        assert f"/t/content?fc=organization_id&amp;fo=eq&amp;fv={ORG_A}" in body
        assert len(re.findall(r"/t/content/row\?k=", body)) == 10

    def test_user_page_lists_organizations_and_content(self, client: Client) -> None:
        """A user's page lists every table referencing users."""
        body = client.get("/t/users/row", k="u1").body
        assert "all 1 in organizations" in body
        assert "all 108 in content" in body

    def test_missing_row_is_404(self, client: Client) -> None:
        """A key with no row answers 404."""
        assert client.get("/t/users/row", k="nobody").status == 404

    def test_soft_deleted_row_is_marked(self, client: Client) -> None:
        """A soft-deleted row still opens, marked as such."""
        assert "This row is soft-deleted" in client.get("/t/users/row", k="u3").body


class TestEscapingAndNames:
    def test_stored_script_is_escaped(self, client: Client) -> None:
        """A stored ``<script>`` value is shown as text on every page that shows it."""
        for reply in (
            client.get("/t/users"),
            client.get("/t/users/row", k="u2"),
            client.post("/sql", [("q", "SELECT name FROM users WHERE id = 'u2'")]),
        ):
            assert reply.status == 200
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.body
            assert "<script>" not in reply.body

    def test_reflected_input_is_escaped(self, client: Client) -> None:
        """Names and values from the URL come back escaped, in errors and in forms."""
        reply = client.get("/t/<b>x</b>")
        assert reply.status == 404 and "<b>" not in reply.body
        reply = client.get("/t/users", fc="name", fo="eq", fv='"><i>')
        assert '"><i>' not in reply.body and "&quot;&gt;&lt;i&gt;" in reply.body

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/t/users;%20DROP%20TABLE%20x", 404),
            ("/t/x%22;%20DROP%20TABLE%20x;--", 404),
            ("/t/users/row?k=u1&k=u2", 400),
            ("/t/users?sort=name;%20DROP%20TABLE%20x", 400),
            ("/t/users?fc=name%29%20OR%201=1;DROP%20TABLE%20x&fo=eq&fv=a", 400),
            ("/t/users?fc=name&fo=;DROP%20TABLE%20x&fv=a", 400),
            ("/t/users?deleted=1;DROP%20TABLE%20x", 400),
        ],
    )
    def test_bogus_names_never_reach_sql(
        self, client: Client, sql: Any, path: str, status: int
    ) -> None:
        """Unknown tables are 404, unknown columns/operators 400, and table x survives."""
        assert client.request("GET", path).status == status
        assert sql("SELECT to_regclass('x') IS NOT NULL") == [(True,)]

    def test_unknown_route_is_404(self, client: Client) -> None:
        """Paths outside the routes answer 404."""
        assert client.get("/etc/passwd").status == 404


class TestConsole:
    def test_select_shows_rows(self, client: Client) -> None:
        """A query's columns and rows are shown."""
        reply = client.post("/sql", [("q", "SELECT id, email FROM users ORDER BY id")])
        assert reply.status == 200
        assert "<th>email</th>" in reply.body and "ann@example.com" in reply.body

    @pytest.mark.parametrize(
        "query",
        [
            "DELETE FROM users",
            "INSERT INTO x VALUES (1)",
            "UPDATE users SET name = 'x'",
            "CREATE TABLE y (a int)",
        ],
    )
    def test_writes_are_refused(self, client: Client, sql: Any, query: str) -> None:
        """The READ ONLY transaction refuses every write."""
        reply = client.post("/sql", [("q", query)])
        assert reply.status == 400
        assert re.search(r"cannot execute \w+( \w+)? in a read-only transaction", reply.body)
        assert sql("SELECT count(*) FROM users") == [(3,)]

    def test_second_statement_cannot_escape_the_transaction(self, client: Client, sql: Any) -> None:
        """``COMMIT; DELETE ...`` is refused as a whole: one statement only."""
        for query in ("COMMIT; DELETE FROM users", "SELECT 1; DELETE FROM users"):
            reply = client.post("/sql", [("q", query)])
            assert reply.status == 400
            assert "cannot insert multiple commands" in reply.body
        assert sql("SELECT count(*) FROM users") == [(3,)]

    def test_statement_timeout(self, client: Client) -> None:
        """A slow statement is cancelled by the statement timeout."""
        reply = client.post("/sql", [("q", "SELECT pg_sleep(5)")])
        assert reply.status == 400
        assert "canceling statement due to statement timeout" in reply.body

    def test_results_are_capped(self, client: Client) -> None:
        """Only the first console_rows rows are shown."""
        reply = client.post("/sql", [("q", "SELECT g FROM generate_series(1, 1000) AS g")])
        assert "first 100 rows shown" in reply.body
        assert "<td>100</td>" in reply.body and "<td>101</td>" not in reply.body

    def test_percent_signs_are_plain_sql(self, client: Client) -> None:
        """``%s`` in the console is SQL text, not a placeholder."""
        reply = client.post("/sql", [("q", "SELECT '%s %%' AS v")])
        assert reply.status == 200 and "%s %%" in reply.body

    def test_console_get_shows_the_form(self, client: Client) -> None:
        """GET /sql only shows the form; queries run on POST."""
        reply = client.get("/sql", q="SELECT 1")
        assert reply.status == 200 and '<textarea name="q"' in reply.body


class TestTools:
    def test_triggers_page_shows_registry_and_agreement(self, client: Client) -> None:
        """Every registered trigger is listed, installed, and the database matches."""
        body = client.get("/triggers").body
        for name in DATABASE_TRIGGERS:
            assert name in body
        assert "The database matches the registry." in body
        assert "missing" not in body

    def test_migrations_page_shows_status(self, client: Client) -> None:
        """Every migration is listed with its applied time."""
        body = client.get("/migrations").body
        assert "0001.auth" in body and "0003.triggers" in body
        assert "pending" not in body

    def test_migrations_page_on_unmigrated_database(self, fresh_database: Any) -> None:
        """A database without yoyo's tables says so and creates nothing."""
        url = fresh_database()
        with running(url) as server:
            body = Client(server).login().get("/migrations").body
        assert "No migration has been applied" in body
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('_yoyo_migration')").fetchone() == (None,)


class TestReadOnlyByDefault:
    def test_write_routes_are_refused(self, client: Client) -> None:
        """Without --write the edit routes answer 403 and no form is shown."""
        assert client.get("/t/users/new").status == 403
        fields = [("action", "delete"), ("k", "u1")]
        assert client.post("/t/users/preview", fields).status == 403
        assert client.post("/t/users/apply", fields).status == 403
        body = client.get("/t/users/row", k="u1").body
        assert "/preview" not in body and "insert a row" not in client.get("/t/users").body


class TestLaunch:
    @pytest.fixture
    def served(self, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
        """Replace the blocking serve() with a recorder."""
        calls: list[dict[str, Any]] = []

        def record(url: str, **options: Any) -> None:
            calls.append({"url": url, **options})

        monkeypatch.setattr(launch, "serve", record)
        for name in ("DB_METHOD", "DATABASE_URL", "NODE_ENV", "APP_ENV"):
            monkeypatch.delenv(name, raising=False)
        return calls

    def test_refuses_production(
        self,
        served: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """DB_METHOD=PRODUCTION is refused before anything starts; --force-production allows it."""
        monkeypatch.setenv("DB_METHOD", "PRODUCTION")
        monkeypatch.setenv("DATABASE_URL", "postgresql://app:secret@db.example.com/app")
        assert main(["--no-browser"]) == 2
        error = capsys.readouterr().err
        assert "refusing to start against production" in error and "secret" not in error
        assert served == []
        with pytest.raises(SystemExit):  # one spelling everywhere, no abbreviations
            main(["--no-browser", "--force"])
        capsys.readouterr()
        assert main(["--no-browser", "--force-production"]) == 0
        assert served[0]["url"].startswith("postgresql://app:secret@db.example.com")

    def test_refuses_production_environment_with_url(
        self, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """NODE_ENV=production also refuses an explicit --url."""
        monkeypatch.setenv("NODE_ENV", "production")
        assert main(["--url", "postgresql://localhost/x", "--no-browser"]) == 2
        assert served == []

    def test_options_reach_serve(self, served: list[dict[str, Any]]) -> None:
        """--url, --port, --write and --no-browser are passed on; the host defaults to loopback."""
        argv = ["--url", "postgresql://localhost/x", "--port", "0", "--write", "--no-browser"]
        assert main(argv) == 0
        assert served == [
            {
                "url": "postgresql://localhost/x",
                "host": "127.0.0.1",
                "port": 0,
                "write": True,
                "open_browser": False,
                "console_superuser": False,
            }
        ]

    def test_other_host_warns(
        self, served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An explicit non-loopback --host is allowed with a printed warning."""
        assert main(["--url", "postgresql://localhost/x", "--host", "0.0.0.0"]) == 0  # noqa: S104
        assert "WARNING" in capsys.readouterr().err
        assert served[0]["host"] == "0.0.0.0"  # noqa: S104

    def test_busy_port_is_reported(
        self, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A port in use gives exit code 1 and a hint, not a traceback."""
        for name in ("DB_METHOD", "NODE_ENV", "APP_ENV"):
            monkeypatch.delenv(name, raising=False)
        with running(db_url) as server:
            port = str(server.server_address[1])
            assert main(["--url", db_url, "--port", port, "--no-browser"]) == 1
        assert "try --port" in capsys.readouterr().err
