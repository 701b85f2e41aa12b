"""The schema in sql/ (as built by migrations/): constraints, foreign keys, triggers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import errors

Conn = psycopg.Connection[Any]


def _user(conn: Conn, email: str | None = None) -> str:
    user_id = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO users (id, name, email) VALUES (%s, %s, %s)",
        (user_id, "Jane", email or f"{user_id}@example.com"),
    )
    return user_id


def _org(conn: Conn, owner: str | None = None, slug: str | None = None) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO organizations (name, slug, owner_id) VALUES ('Acme', %s, %s) RETURNING id",
        (slug or f"acme-{uuid.uuid4().hex[:8]}", owner),
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _media(conn: Conn, creator: str, **values: object) -> uuid.UUID:
    cols = {"creator_id": creator, "title": "Clip", "media_type": "video", "r2_key": "k", **values}
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    row = conn.execute(
        f"INSERT INTO media_items ({names}) VALUES ({marks}) RETURNING id",
        list(cols.values()),
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _content(conn: Conn, creator: str, **values: object) -> uuid.UUID:
    cols = {
        "creator_id": creator,
        "title": "Welcome",
        "slug": f"welcome-{uuid.uuid4().hex[:8]}",
        "content_type": "video",
        **values,
    }
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    row = conn.execute(
        f"INSERT INTO content ({names}) VALUES ({marks}) RETURNING id",
        list(cols.values()),
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _violation(
    conn: Conn,
    exc: type[psycopg.Error] | tuple[type[psycopg.Error], ...],
    sql: str,
    params: Any = (),
) -> str | None:
    """Run *sql* in a savepoint; it must fail with *exc*; return the constraint name."""
    with pytest.raises(exc) as info, conn.transaction():
        conn.execute(sql, params)
    return info.value.diag.constraint_name


class TestChecks:
    """Every CHECK constraint rejects a bad value and accepts the good ones."""

    @pytest.mark.parametrize(
        ("column", "value", "constraint"),
        [
            ("status", "live", "check_content_status"),
            ("visibility", "everyone", "check_content_visibility"),
            ("content_type", "podcast", "check_content_type"),
            ("price_cents", -1, "check_price_non_negative"),
            ("tags", json.dumps({"not": "an array"}), "check_content_tags_array"),
            ("status", "published", "check_published_has_date"),  # without published_at
        ],
    )
    def test_content_checks(self, conn: Conn, column: str, value: object, constraint: str) -> None:
        """A bad content value is refused by the named check."""
        user = _user(conn)
        content = _content(conn, user)
        name = _violation(
            conn,
            errors.CheckViolation,
            f"UPDATE content SET {column} = %s WHERE id = %s",
            (value, content),
        )
        assert name == constraint

    @pytest.mark.parametrize(
        ("column", "value", "constraint"),
        [
            ("status", "processing", "check_media_status"),
            ("media_type", "image", "check_media_type"),
        ],
    )
    def test_media_checks(self, conn: Conn, column: str, value: str, constraint: str) -> None:
        """A bad media value is refused by the named check."""
        media = _media(conn, _user(conn))
        name = _violation(
            conn,
            errors.CheckViolation,
            f"UPDATE media_items SET {column} = %s WHERE id = %s",
            (value, media),
        )
        assert name == constraint

    def test_every_allowed_value_passes(self, conn: Conn) -> None:
        """All documented enum-like values are accepted."""
        user = _user(conn)
        for status in ("draft", "published", "archived"):
            for visibility in ("public", "private", "members_only", "purchased_only"):
                for kind in ("video", "audio", "written"):
                    when = "2026-01-01" if status == "published" else None
                    _content(
                        conn,
                        user,
                        status=status,
                        visibility=visibility,
                        content_type=kind,
                        published_at=when,
                    )
        for status in ("uploading", "uploaded", "transcoding", "ready", "failed"):
            for kind in ("video", "audio"):
                _media(conn, user, status=status, media_type=kind)
        _content(conn, user, price_cents=0)

    def test_defaults(self, conn: Conn) -> None:
        """Defaults: draft, purchased_only, empty tags, uploading, unverified."""
        user = _user(conn)
        content = _content(conn, user)
        row = conn.execute(
            "SELECT status, visibility, tags, view_count, purchase_count"
            " FROM content WHERE id = %s",
            (content,),
        ).fetchone()
        assert row == ("draft", "purchased_only", [], 0, 0)
        media = _media(conn, user)
        assert conn.execute(
            "SELECT status FROM media_items WHERE id = %s", (media,)
        ).fetchone() == ("uploading",)
        verified = conn.execute("SELECT email_verified FROM users WHERE id = %s", (user,))
        assert verified.fetchone() == (False,)


class TestUniqueness:
    """Unique constraints and the partial unique slug indexes."""

    def test_unique_names(self, conn: Conn) -> None:
        """users.email, sessions.token and organizations.slug are unique, by name."""
        user = _user(conn, "dup@example.com")
        assert (
            _violation(
                conn,
                errors.UniqueViolation,
                "INSERT INTO users (id, name, email) VALUES ('x', 'X', 'dup@example.com')",
            )
            == "users_email_unique"
        )
        session_sql = (
            "INSERT INTO sessions (id, token, expires_at, user_id) "
            "VALUES (%s, 'tok', now() + interval '1 day', %s)"
        )
        conn.execute(session_sql, ("s1", user))
        assert (
            _violation(conn, errors.UniqueViolation, session_sql, ("s2", user))
            == "sessions_token_unique"
        )
        _org(conn, slug="acme")
        assert (
            _violation(
                conn,
                errors.UniqueViolation,
                "INSERT INTO organizations (name, slug) VALUES ('Other', 'acme')",
            )
            == "organizations_slug_unique"
        )

    def test_slug_unique_per_organization(self, conn: Conn) -> None:
        """Two items of one organization cannot share a slug; two organizations can."""
        user = _user(conn)
        org_a, org_b = _org(conn), _org(conn)
        _content(conn, user, organization_id=org_a, slug="intro")
        _content(conn, user, organization_id=org_b, slug="intro")
        _content(conn, user, slug="intro")  # personal space is separate
        name = _violation(
            conn,
            errors.UniqueViolation,
            "INSERT INTO content (creator_id, organization_id, title, slug, content_type) "
            "VALUES (%s, %s, 'T', 'intro', 'video')",
            (_user(conn), org_a),
        )
        assert name == "idx_unique_content_slug_per_org"

    def test_slug_unique_per_creator_personal(self, conn: Conn) -> None:
        """A creator's personal content cannot repeat a slug; another creator's can."""
        alice, bob = _user(conn), _user(conn)
        _content(conn, alice, slug="hello")
        _content(conn, bob, slug="hello")
        name = _violation(
            conn,
            errors.UniqueViolation,
            "INSERT INTO content (creator_id, title, slug, content_type) "
            "VALUES (%s, 'T', 'hello', 'audio')",
            (alice,),
        )
        assert name == "idx_unique_content_slug_personal"


class TestForeignKeys:
    """Each foreign key behaves as declared: cascade, restrict or set null."""

    def test_deleting_user_cascades_to_auth_rows(self, conn: Conn) -> None:
        """Accounts and sessions go with their user."""
        user = _user(conn)
        conn.execute(
            "INSERT INTO accounts (id, account_id, provider_id, user_id) "
            "VALUES ('a1', %s, 'credential', %s)",
            (user, user),
        )
        conn.execute(
            "INSERT INTO sessions (id, token, expires_at, user_id) "
            "VALUES ('s1', 't1', now() + interval '1 day', %s)",
            (user,),
        )
        conn.execute("DELETE FROM users WHERE id = %s", (user,))
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM accounts WHERE user_id = %(u)s),"
            " (SELECT count(*) FROM sessions WHERE user_id = %(u)s)",
            {"u": user},
        ).fetchone()
        assert counts == (0, 0)

    @pytest.mark.parametrize("table", ["content", "media_items"])
    def test_creator_is_restricted(self, conn: Conn, table: str) -> None:
        """A user with content or media cannot be hard-deleted.

        PostgreSQL 18 reports ON DELETE RESTRICT as 23001 (restrict_violation),
        earlier versions as 23503 (foreign_key_violation).
        """
        user = _user(conn)
        (_content if table == "content" else _media)(conn, user)
        name = _violation(
            conn,
            (errors.ForeignKeyViolation, errors.RestrictViolation),
            "DELETE FROM users WHERE id = %s",
            (user,),
        )
        assert name == f"{table}_creator_id_users_id_fk"

    def test_unknown_references_are_refused(self, conn: Conn) -> None:
        """Inserting a row that points at nothing fails with the FK's name."""
        user = _user(conn)
        name = _violation(
            conn,
            errors.ForeignKeyViolation,
            "INSERT INTO content (creator_id, organization_id, title, slug, content_type) "
            "VALUES (%s, gen_random_uuid(), 'T', 's', 'video')",
            (user,),
        )
        assert name == "content_organization_id_organizations_id_fk"
        name = _violation(
            conn,
            errors.ForeignKeyViolation,
            "INSERT INTO sessions (id, token, expires_at, user_id)"
            " VALUES ('s', 't', now(), 'nobody')",
        )
        assert name == "sessions_user_id_users_id_fk"

    def test_set_null_on_media_and_owner(self, conn: Conn) -> None:
        """Deleting media unlinks content; deleting an owner unlinks the organization."""
        owner, creator = _user(conn), _user(conn)
        org = _org(conn, owner=owner)
        media = _media(conn, creator)
        content = _content(conn, creator, media_item_id=media)
        conn.execute("DELETE FROM media_items WHERE id = %s", (media,))
        row = conn.execute("SELECT media_item_id FROM content WHERE id = %s", (content,))
        assert row.fetchone() == (None,)
        conn.execute("DELETE FROM users WHERE id = %s", (owner,))
        row = conn.execute("SELECT owner_id FROM organizations WHERE id = %s", (org,))
        assert row.fetchone() == (None,)


class TestTriggers:
    """The database maintains updated_at and enforces the organization and user rules."""

    @pytest.mark.parametrize(
        ("table", "setter"),
        [
            ("users", "name = 'Renamed'"),
            ("organizations", "name = 'Renamed'"),
            ("content", "title = 'Renamed'"),
            ("media_items", "title = 'Renamed'"),
        ],
    )
    def test_updated_at_moves_created_at_stays(self, conn: Conn, table: str, setter: str) -> None:
        """UPDATE sets updated_at to the current time and leaves created_at alone."""
        user = _user(conn)
        makers: dict[str, Callable[[], object]] = {
            "users": lambda: user,
            "organizations": lambda: _org(conn),
            "content": lambda: _content(conn, user),
            "media_items": lambda: _media(conn, user),
        }
        row_id = makers[table]()
        query = f"SELECT created_at, updated_at FROM {table} WHERE id = %s"
        before = conn.execute(query, (row_id,)).fetchone()
        conn.execute(f"UPDATE {table} SET {setter} WHERE id = %s", (row_id,))
        after = conn.execute(query, (row_id,)).fetchone()
        assert before is not None and after is not None
        assert after[0] == before[0]
        assert after[1] > before[1]

    def test_caller_cannot_backdate_updated_at(self, conn: Conn) -> None:
        """An explicit updated_at in an UPDATE is overridden by the trigger."""
        user = _user(conn)
        conn.execute("UPDATE users SET updated_at = '2000-01-01' WHERE id = %s", (user,))
        row = conn.execute("SELECT updated_at > '2001-01-01' FROM users WHERE id = %s", (user,))
        assert row.fetchone() == (True,)

    def test_deleting_organization_unpublishes_its_content(self, conn: Conn) -> None:
        """ON DELETE SET NULL turns org content into a draft, not personal published content."""
        user = _user(conn)
        org = _org(conn)
        content = _content(
            conn, user, organization_id=org, status="published", published_at="2026-01-01"
        )
        other = _content(conn, user, status="published", published_at="2026-01-01")
        conn.execute("DELETE FROM organizations WHERE id = %s", (org,))
        query = "SELECT organization_id, status, published_at FROM content WHERE id = %s"
        assert conn.execute(query, (content,)).fetchone() == (None, "draft", None)
        row = conn.execute(query, (other,)).fetchone()
        assert row is not None and row[1] == "published" and row[2] is not None

    def test_moving_content_between_orgs_keeps_status(self, conn: Conn) -> None:
        """Only NOT NULL -> NULL unpublishes; moving to another organization does not."""
        user = _user(conn)
        org_a, org_b = _org(conn), _org(conn)
        content = _content(
            conn, user, organization_id=org_a, status="published", published_at="2026-01-01"
        )
        conn.execute("UPDATE content SET organization_id = %s WHERE id = %s", (org_b, content))
        row = conn.execute("SELECT status FROM content WHERE id = %s", (content,))
        assert row.fetchone() == ("published",)

    def test_soft_deleting_organization_unpublishes_its_content(self, conn: Conn) -> None:
        """Setting organizations.deleted_at drafts its published content, and only that."""
        user = _user(conn)
        org = _org(conn)
        published = _content(
            conn, user, organization_id=org, status="published", published_at="2026-01-01"
        )
        archived = _content(conn, user, organization_id=org, status="archived")
        elsewhere = _content(conn, user, status="published", published_at="2026-01-01")
        conn.execute("UPDATE organizations SET deleted_at = now() WHERE id = %s", (org,))
        rows = dict(
            conn.execute(
                "SELECT id, status FROM content WHERE id = ANY(%s)",
                ([published, archived, elsewhere],),
            ).fetchall()
        )
        assert rows == {published: "draft", archived: "archived", elsewhere: "published"}
        row = conn.execute("SELECT published_at FROM content WHERE id = %s", (published,))
        assert row.fetchone() == (None,)

    def test_soft_deleting_user_ends_sessions(self, conn: Conn) -> None:
        """Setting users.deleted_at deletes that user's sessions (and nobody else's)."""
        alice, bob = _user(conn), _user(conn)
        for sid, user in (("sa", alice), ("sb", bob)):
            conn.execute(
                "INSERT INTO sessions (id, token, expires_at, user_id) "
                "VALUES (%s, %s, now() + interval '1 day', %s)",
                (sid, f"tok-{sid}", user),
            )
        conn.execute("UPDATE users SET deleted_at = now() WHERE id = %s", (alice,))
        rows = conn.execute("SELECT user_id FROM sessions WHERE user_id IN (%s, %s)", (alice, bob))
        assert rows.fetchall() == [(bob,)]

    def test_not_null_columns(self, conn: Conn) -> None:
        """Required columns refuse NULL with a not-null violation naming the column."""
        with pytest.raises(errors.NotNullViolation) as info, conn.transaction():
            conn.execute("INSERT INTO users (id, name, email) VALUES ('n', NULL, 'n@x')")
        assert info.value.diag.column_name == "name"
