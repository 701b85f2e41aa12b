"""The auth queries (users, accounts, sessions, verification tokens) on a real database.

Each test runs in both client modes (the ``dbtx`` fixture) and is rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from codex_db.generated import accounts, models, sessions, users, verification_tokens
from codex_db.ids import new_id

Db = Any  # codex_db.dbtx.DBTX: a client or a transaction

SOON = datetime.now(UTC) + timedelta(days=7)
PAST = datetime.now(UTC) - timedelta(days=1)


def make_user(db: Db, email: str | None = None, name: str = "Jane Doe") -> models.User:
    """Create a user through the generated query."""
    uid = new_id()
    user = users.create_user(
        db,
        users.CreateUserParams(id=uid, name=name, email=email or f"{uid}@Example.com"),
    )
    assert user is not None
    return user


def make_session(db: Db, user: models.User, expires_at: datetime = SOON) -> models.Session:
    """Create a session for *user*."""
    session = sessions.create_session(
        db,
        sessions.CreateSessionParams(
            id=new_id(), token=new_id(), expires_at=expires_at, user_id=user.id
        ),
    )
    assert session is not None
    return session


class TestIds:
    """new_id() makes better-auth style ids."""

    def test_shape(self) -> None:
        """32 alphanumeric characters, different every time."""
        ids = {new_id() for _ in range(100)}
        assert len(ids) == 100
        assert all(len(i) == 32 and i.isalnum() and i.isascii() for i in ids)

    def test_too_short(self) -> None:
        """Short ids are refused."""
        with pytest.raises(ValueError, match="too short"):
            new_id(8)


class TestUsers:
    """Create, read, update, verify, soft-delete, restore, list."""

    def test_create_and_get(self, dbtx: Db) -> None:
        """A created user reads back by id and by email in any case; email is lower-cased."""
        user = make_user(dbtx, email="Jane@Example.COM")
        assert user.email == "jane@example.com"
        assert user.email_verified is False
        assert user.created_at == user.updated_at
        assert users.get_user(dbtx, id=user.id) == user
        assert users.get_user_by_email(dbtx, email="JANE@example.com") == user
        assert users.get_user(dbtx, id="missing") is None

    def test_update_keeps_unset_fields(self, dbtx: Db) -> None:
        """A NULL argument keeps the stored value; updated_at moves."""
        user = make_user(dbtx)
        renamed = users.update_user(dbtx, id=user.id, name="Janet")
        assert renamed is not None
        assert (renamed.name, renamed.image) == ("Janet", None)
        with_image = users.update_user(dbtx, id=user.id, image="https://img/x.png")
        assert with_image is not None
        assert (with_image.name, with_image.image) == ("Janet", "https://img/x.png")
        assert with_image.updated_at > user.updated_at

    def test_verify_email(self, dbtx: Db) -> None:
        """verify_user_email flips the flag once."""
        user = make_user(dbtx)
        assert users.verify_user_email(dbtx, id=user.id) == 1
        fetched = users.get_user(dbtx, id=user.id)
        assert fetched is not None
        assert fetched.email_verified

    def test_soft_delete_and_restore(self, dbtx: Db) -> None:
        """A soft-deleted user disappears from reads and lists, and comes back on restore."""
        user = make_user(dbtx)
        assert users.soft_delete_user(dbtx, id=user.id) == 1
        assert users.soft_delete_user(dbtx, id=user.id) == 0
        assert users.get_user(dbtx, id=user.id) is None
        assert users.get_user_by_email(dbtx, email=user.email) is None
        assert users.update_user(dbtx, id=user.id, name="X") is None
        listed = users.list_users(dbtx, include_deleted=False, skip_rows=0, max_rows=1000)
        assert user.id not in {u.id for u in listed}
        everyone = users.list_users(dbtx, include_deleted=True, skip_rows=0, max_rows=1000)
        assert user.id in {u.id for u in everyone}
        assert users.restore_user(dbtx, id=user.id) == 1
        assert users.restore_user(dbtx, id=user.id) == 0
        assert users.get_user(dbtx, id=user.id) is not None

    def test_list_pages(self, dbtx: Db) -> None:
        """list_users pages through users in creation order without overlap."""
        made = {make_user(dbtx).id for _ in range(5)}
        seen: list[models.User] = []
        for skip in range(0, 1000, 2):
            page = users.list_users(dbtx, include_deleted=False, skip_rows=skip, max_rows=2)
            if not page:
                break
            seen.extend(page)
        keys = [(u.created_at, u.id) for u in seen]
        assert keys == sorted(keys)
        assert len(keys) == len(set(keys))
        assert made <= {u.id for u in seen}


class TestAccounts:
    """Linked accounts."""

    def test_create_list_and_lookup(self, dbtx: Db) -> None:
        """Accounts list by user and resolve by (provider, account id)."""
        user = make_user(dbtx)
        credential = accounts.create_account(
            dbtx,
            accounts.CreateAccountParams(
                id=new_id(),
                account_id=user.id,
                provider_id="credential",
                user_id=user.id,
                password="salt:hash",
            ),
        )
        google = accounts.create_account(
            dbtx,
            accounts.CreateAccountParams(
                id=new_id(),
                account_id="g-123",
                provider_id="google",
                user_id=user.id,
                access_token="at",
                access_token_expires_at=SOON,
                scope="email profile",
            ),
        )
        assert credential is not None
        assert google is not None
        listed = accounts.list_accounts_by_user(dbtx, user_id=user.id)
        assert sorted(listed, key=lambda a: a.id) == sorted(
            [credential, google], key=lambda a: a.id
        )
        found = accounts.get_account_by_provider(dbtx, provider_id="google", account_id="g-123")
        assert found == google
        assert accounts.delete_account(dbtx, id=google.id) == 1
        assert accounts.list_accounts_by_user(dbtx, user_id=user.id) == [credential]


class TestSessions:
    """Sessions by token, joined with their user."""

    def test_live_session_with_user(self, dbtx: Db) -> None:
        """A live session comes back with its user embedded."""
        user = make_user(dbtx)
        session = make_session(dbtx, user)
        row = sessions.get_session_with_user(dbtx, token=session.token)
        assert row is not None
        assert row.session == session
        assert row.user == user

    def test_expired_and_deleted_users_have_no_session(self, dbtx: Db) -> None:
        """Expired sessions and sessions of soft-deleted users are not returned."""
        user = make_user(dbtx)
        expired = make_session(dbtx, user, expires_at=PAST)
        assert sessions.get_session_with_user(dbtx, token=expired.token) is None
        live = make_session(dbtx, user)
        users.soft_delete_user(dbtx, id=user.id)
        assert sessions.get_session_with_user(dbtx, token=live.token) is None
        assert sessions.get_session_with_user(dbtx, token="no-such-token") is None

    def test_delete_sessions(self, dbtx: Db) -> None:
        """Sign out one session, all of a user's, and purge expired ones."""
        alice, bob = make_user(dbtx), make_user(dbtx)
        one, two = make_session(dbtx, alice), make_session(dbtx, alice)
        bobs = make_session(dbtx, bob)
        old = make_session(dbtx, bob, expires_at=PAST)
        assert sessions.delete_session(dbtx, token=one.token) == 1
        assert sessions.delete_user_sessions(dbtx, user_id=alice.id) == 1
        assert sessions.get_session_with_user(dbtx, token=two.token) is None
        assert sessions.delete_expired_sessions(dbtx) >= 1
        assert sessions.delete_session(dbtx, token=old.token) == 0
        assert sessions.get_session_with_user(dbtx, token=bobs.token) is not None


class TestVerificationTokens:
    """Single-use verification tokens."""

    def test_consume_once(self, dbtx: Db) -> None:
        """A matching, unexpired token is consumed exactly once."""
        token = verification_tokens.create_verification_token(
            dbtx, id=new_id(), identifier="jane@example.com", value="123456", expires_at=SOON
        )
        assert token is not None
        wrong = verification_tokens.consume_verification_token(
            dbtx, identifier="jane@example.com", value="000000"
        )
        assert wrong is None
        used = verification_tokens.consume_verification_token(
            dbtx, identifier="jane@example.com", value="123456"
        )
        assert used == token
        again = verification_tokens.consume_verification_token(
            dbtx, identifier="jane@example.com", value="123456"
        )
        assert again is None

    def test_expired_tokens(self, dbtx: Db) -> None:
        """Expired tokens cannot be consumed and are purged."""
        verification_tokens.create_verification_token(
            dbtx, id=new_id(), identifier="reset:jane", value="abc", expires_at=PAST
        )
        used = verification_tokens.consume_verification_token(
            dbtx, identifier="reset:jane", value="abc"
        )
        assert used is None
        assert verification_tokens.purge_expired_verification_tokens(dbtx) >= 1
