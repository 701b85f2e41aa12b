"""get_session() recognises better-auth sessions, and only those."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from codex_db import ConfigError, dbtx
from codex_db.auth import get_session, get_session_async, sign_session_token
from codex_db.generated import sessions, users
from codex_db.ids import new_id
from tests.test_queries_auth import make_session, make_user

SECRET = "test-secret-with-enough-entropy-0123456789"


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BETTER_AUTH_SECRET", raising=False)
    monkeypatch.delenv("AUTH_SECRET", raising=False)


def _cookie(token: str, name: str = "better-auth.session_token") -> dict[str, str]:
    return {"Cookie": f"theme=dark; {name}={sign_session_token(token, SECRET)}"}


def test_valid_cookie_gives_session_and_user(dbtx: Any) -> None:
    """A correctly signed cookie for a live session returns it with its user."""
    user = make_user(dbtx)
    session = make_session(dbtx, user)
    found = get_session(_cookie(session.token), db=dbtx, secret=SECRET)
    assert found is not None
    assert found.session == session
    assert found.user == user
    assert found == sessions.get_session_with_user(dbtx, token=session.token)


def test_secure_prefix_and_bearer(dbtx: Any) -> None:
    """The __Secure- cookie and Authorization: Bearer are accepted too."""
    session = make_session(dbtx, make_user(dbtx))
    secure = _cookie(session.token, "__Secure-better-auth.session_token")
    assert get_session(secure, db=dbtx, secret=SECRET) is not None
    bearer = {"authorization": f"Bearer {sign_session_token(session.token, SECRET)}"}
    assert get_session(bearer, db=dbtx, secret=SECRET) is not None


def test_secret_from_environment(dbtx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """BETTER_AUTH_SECRET is used when no secret is passed."""
    session = make_session(dbtx, make_user(dbtx))
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    assert get_session(_cookie(session.token), db=dbtx) is not None


def test_missing_secret_is_a_configuration_error(dbtx: Any) -> None:
    """Without any secret, even a request without a cookie fails loudly."""
    with pytest.raises(ConfigError, match="BETTER_AUTH_SECRET"):
        get_session({}, db=dbtx)


def test_no_session_cases(dbtx: Any) -> None:
    """Each way a request can fail to have a session gives None."""
    user = make_user(dbtx)
    live = make_session(dbtx, user)
    expired = make_session(dbtx, user, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    other_secret = {"Cookie": f"better-auth.session_token={sign_session_token(live.token, 'x')}"}
    cases = {
        "no headers": {},
        "no cookie": {"Cookie": "theme=dark"},
        "unsigned token": {"Cookie": f"better-auth.session_token={live.token}"},
        "bad signature": other_secret,
        "malformed": {"Cookie": "better-auth.session_token=%%%.==="},
        "unknown token": _cookie(new_id()),
        "expired": _cookie(expired.token),
        "NUL in bearer": {"Authorization": "Bearer abc\x00def"},
        "surrogate in bearer": {"Authorization": "Bearer abc\udcffdef"},
        "huge bearer": {"Authorization": "Bearer " + "a" * 100_000},
    }
    for name, headers in cases.items():
        assert get_session(headers, db=dbtx, secret=SECRET) is None, name


def test_soft_deleted_user(dbtx: Any) -> None:
    """Soft-deleting the user ends the session (trigger) and get_session returns None."""
    user = make_user(dbtx)
    session = make_session(dbtx, user)
    users.soft_delete_user(dbtx, id=user.id)
    assert get_session(_cookie(session.token), db=dbtx, secret=SECRET) is None


def test_session_of_deleted_user_created_afterwards(dbtx: Any) -> None:
    """A session row added after the soft delete is still refused by the lookup."""
    user = make_user(dbtx)
    users.soft_delete_user(dbtx, id=user.id)
    session = make_session(dbtx, user)
    assert get_session(_cookie(session.token), db=dbtx, secret=SECRET) is None


async def _async_lookup(url: str, token: str) -> sessions.GetSessionWithUserRow | None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await get_session_async(_cookie(token), db=dbtx.AsyncConn.of(conn), secret=SECRET)


def test_async_twin(migrated_database: Callable[[], str]) -> None:
    """get_session_async finds the same session on an async connection."""
    url = migrated_database()
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbtx.Conn.of(conn)
        session = make_session(db, make_user(db))
    found = asyncio.run(_async_lookup(url, session.token))
    assert found is not None
    assert found.session.id == session.id
    assert asyncio.run(_async_lookup(url, new_id())) is None
