"""codex-db studio with ``--write``: insert, update and delete behind a confirm step."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from codex_db.studio import StudioServer
from codex_db.testing import TestServer
from tests.test_studio import ORG_A, WEIRD_PATH, Client, running, seeded


@pytest.fixture
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A seeded database of its own: these tests commit."""
    name = seeded(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture
def studio(db_url: str) -> Iterator[StudioServer]:
    """A studio started with --write."""
    with running(db_url, write=True) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Client:
    """A client holding the studio cookie."""
    return Client(studio).login()


@pytest.fixture
def sql(db_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run a query on the database and return its rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:

        def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(query, params or None).fetchall()

        yield run


def confirm_fields(body: str) -> list[tuple[str, str]]:
    """The hidden fields of the confirm page's "run it" form (without the CSRF token)."""
    form = re.search(r'action="[^"]*/apply">(.*?)<button>run it</button>', body, re.S)
    assert form, body[:3000]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1))
    return [(html.unescape(n), html.unescape(v)) for n, v in fields if n != "csrf"]


USER_FIELDS = [
    ("action", "insert"),
    ("v.id", "u9"),
    ("v.name", "Nina"),
    ("v.email", "nina@example.com"),
    ("d.email_verified", "1"),
    ("n.image", "1"),
    ("d.created_at", "1"),
    ("d.updated_at", "1"),
    ("d.deleted_at", "1"),
]


class TestInsert:
    def test_preview_shows_sql_and_changes_nothing(self, client: Client, sql: Any) -> None:
        """The preview shows the INSERT with its values; nothing is written yet."""
        reply = client.post("/t/users/preview", USER_FIELDS)
        assert reply.status == 200
        text = html.unescape(reply.body)
        assert 'INSERT INTO "public"."users" ("id", "name", "email", "image")' in text
        assert "VALUES ('u9', 'Nina', 'nina@example.com', NULL)" in text
        assert sql("SELECT count(*) FROM users WHERE id = 'u9'") == [(0,)]

    def test_confirmed_insert_is_committed(self, client: Client, sql: Any) -> None:
        """Running the confirmed statement inserts the row and redirects to it."""
        preview = client.post("/t/users/preview", USER_FIELDS)
        reply = client.post("/t/users/apply", confirm_fields(preview.body))
        assert reply.status == 303
        assert reply.headers["location"] == "/t/users/row?k=u9&msg=inserted"
        assert sql("SELECT name, email, image, email_verified FROM users WHERE id = 'u9'") == [
            ("Nina", "nina@example.com", None, False)
        ]
        assert "Row inserted." in client.get("/t/users/row", k="u9", msg="inserted").body

    def test_unique_violation_names_the_constraint(self, client: Client, sql: Any) -> None:
        """A duplicate email is refused with the constraint name and PostgreSQL's detail."""
        fields = [(k, "ann@example.com" if k == "v.email" else v) for k, v in USER_FIELDS]
        reply = client.post("/t/users/apply", fields)
        assert reply.status == 409
        assert "unique violation" in reply.body
        assert "constraint: users_email_unique" in reply.body
        assert "Key (email)=(ann@example.com) already exists." in reply.body
        assert sql("SELECT count(*) FROM users") == [(3,)]

    def test_check_violation_is_explained(self, client: Client) -> None:
        """A value outside a CHECK names that constraint."""
        fields = [
            ("action", "insert"),
            ("v.creator_id", "u1"),
            ("v.title", "T"),
            ("v.slug", "t-new"),
            ("v.content_type", "poem"),
        ]
        reply = client.post("/t/content/apply", fields)
        assert reply.status == 409
        assert "check violation" in reply.body and "check_content_type" in reply.body

    def test_insert_form_lists_writable_columns(self, client: Client) -> None:
        """The insert form has a field, a null box and a default box per column."""
        body = client.get("/t/organizations/new").body
        assert 'name="v.slug"' in body and 'name="n.slug"' in body
        assert re.search(r'name="d.id" value="1" checked', body)
        assert not re.search(r'name="d.slug" value="1" checked', body)


class TestUpdate:
    def test_preview_lists_only_changed_columns(self, client: Client) -> None:
        """The UPDATE sets only the columns whose value changed."""
        fields = [
            ("action", "update"),
            ("k", "u1"),
            ("v.name", "Annie"),
            ("v.email", "ann@example.com"),
        ]
        text = html.unescape(client.post("/t/users/preview", fields).body)
        assert """UPDATE "public"."users" SET "name" = 'Annie' WHERE "id" = 'u1'""" in text

    def test_confirmed_update_is_committed(self, client: Client, sql: Any) -> None:
        """The confirmed update changes the row; the trigger moves updated_at."""
        before = sql("SELECT updated_at FROM users WHERE id = 'u1'")[0][0]
        preview = client.post(
            "/t/users/preview", [("action", "update"), ("k", "u1"), ("v.name", "Annie")]
        )
        reply = client.post("/t/users/apply", confirm_fields(preview.body))
        assert reply.status == 303 and reply.headers["location"].endswith("msg=updated")
        name, updated_at = sql("SELECT name, updated_at FROM users WHERE id = 'u1'")[0]
        assert name == "Annie" and updated_at > before

    def test_set_null_and_empty_string_differ(self, client: Client, sql: Any) -> None:
        """The null box stores NULL; an empty field stores an empty string."""
        client.post("/t/users/apply", [("action", "update"), ("k", "u1"), ("v.image", "")])
        assert sql("SELECT image FROM users WHERE id = 'u1'") == [("",)]
        client.post("/t/users/apply", [("action", "update"), ("k", "u1"), ("n.image", "1")])
        assert sql("SELECT image FROM users WHERE id = 'u1'") == [(None,)]

    def test_unchanged_form_runs_nothing(self, client: Client) -> None:
        """Submitting the form as it was redirects back with "Nothing changed"."""
        reply = client.post(
            "/t/users/preview", [("action", "update"), ("k", "u1"), ("v.name", "Ann")]
        )
        assert reply.status == 303 and reply.headers["location"].endswith("msg=unchanged")

    def test_update_of_missing_row_is_a_conflict(self, client: Client) -> None:
        """A key that matches no row changes nothing and says so."""
        reply = client.post("/t/users/apply", [("action", "update"), ("k", "zz"), ("v.name", "x")])
        assert reply.status == 409 and "matched 0 rows" in reply.body

    def test_row_page_has_edit_and_delete_forms(self, client: Client) -> None:
        """In write mode a row page carries the edit form and the delete button."""
        body = client.get("/t/organizations/row", k=ORG_A).body
        assert 'name="v.slug" value="org-a"' in body
        assert 'value="delete"' in body and client.server.ctx.csrf in body


class TestOtherShapes:
    def test_names_needing_quotes(self, client: Client, sql: Any) -> None:
        """Quotes and ``%`` in names are quoted in the preview and in the statement that runs."""
        fields = [("action", "update"), ("k", "1"), ('v.a"b%', "y%")]
        preview = html.unescape(client.post(WEIRD_PATH + "/preview", fields).body)
        assert """UPDATE "other"."50%_off/<b>" SET "a""b%" = 'y%' WHERE "id" = '1'""" in preview
        assert client.post(WEIRD_PATH + "/apply", fields).status == 303
        assert sql("""SELECT "a""b%" FROM other."50%_off/<b>" WHERE id = 1""") == [("y%",)]

    def test_composite_key_update(self, client: Client, sql: Any) -> None:
        """A row with a two-column key is updated by both values."""
        fields = [("action", "update"), ("k", "1"), ("k", "b1"), ("v.score", "42")]
        reply = client.post("/t/pairs/apply", fields)
        assert reply.headers["location"] == "/t/pairs/row?k=1&k=b1&msg=updated"
        assert sql("SELECT score FROM pairs WHERE a = 1 AND b = 'b1'") == [(42,)]

    def test_views_cannot_be_edited(self, client: Client) -> None:
        """Views and tables without a key have no forms and refuse changes."""
        assert client.get("/t/nokey/new").status == 400
        assert client.post("/t/published_content/apply", [("action", "insert")]).status == 400


class TestDelete:
    def test_confirmed_delete_is_committed(self, client: Client, sql: Any) -> None:
        """Delete shows its SQL first, then removes the row (cascading as the schema says)."""
        preview = client.post("/t/users/preview", [("action", "delete"), ("k", "u3")])
        assert """DELETE FROM "public"."users" WHERE "id" = 'u3'""" in html.unescape(preview.body)
        assert sql("SELECT count(*) FROM users WHERE id = 'u3'") == [(1,)]
        reply = client.post("/t/users/apply", confirm_fields(preview.body))
        assert reply.status == 303 and reply.headers["location"] == "/t/users?msg=deleted"
        assert sql("SELECT count(*) FROM users WHERE id = 'u3'") == [(0,)]

    def test_restricted_delete_is_a_foreign_key_violation(self, client: Client, sql: Any) -> None:
        """Deleting a user with content is refused by the RESTRICT foreign key, by name."""
        reply = client.post("/t/users/apply", [("action", "delete"), ("k", "u1")])
        assert reply.status == 409
        assert "foreign key violation" in reply.body  # PG 18 says 23001 (restrict), 15 23503
        assert "content_creator_id_users_id_fk" in reply.body
        assert sql("SELECT count(*) FROM users WHERE id = 'u1'") == [(1,)]


class TestWriteSecurity:
    def test_cross_origin_write_is_refused(self, client: Client, sql: Any) -> None:
        """Even in write mode a cross-origin POST changes nothing."""
        fields = [("action", "delete"), ("k", "u3")]
        assert client.post("/t/users/apply", fields, origin="http://evil.example").status == 403
        assert client.post("/t/users/apply", fields, csrf=False).status == 403
        assert sql("SELECT count(*) FROM users WHERE id = 'u3'") == [(1,)]

    @pytest.mark.parametrize(
        "fields",
        [
            [("action", "update"), ("k", "u1"), ("v.name; DROP TABLE x", "a")],
            [("action", "update"), ("k", "u1"), ("n.bogus", "1")],
            [("action", "drop"), ("k", "u1")],
            [("action", "delete")],
        ],
    )
    def test_bogus_form_is_a_400(self, client: Client, sql: Any, fields: Any) -> None:
        """Unknown columns, actions or a missing key are refused before any SQL."""
        assert client.post("/t/users/preview", fields).status == 400
        assert sql("SELECT to_regclass('x') IS NOT NULL") == [(True,)]

    def test_unknown_table_is_404(self, client: Client) -> None:
        """Writes to a table outside the catalog answer 404."""
        assert client.post("/t/nope/apply", [("action", "delete"), ("k", "1")]).status == 404
