"""Who the SQL console runs as: a per-run login role that can only read, decided at start.

A ``READ ONLY`` transaction is not a sandbox: on PostgreSQL 15 a ``DO``
block can ``RESET transaction_read_only`` before its first query, and
``dblink_exec`` writes through a connection of its own. ``SET ROLE`` does not
help either, as the statement can ``RESET ROLE``. So the console logs in as a
role of its own, created at start as a member of ``pg_read_all_data``
(PostgreSQL 14+), with a random password and ``default_transaction_read_only``:
its session user can read everything and change nothing, whatever the
statement resets. It is dropped when the studio stops.

Where that role cannot be had (PostgreSQL 13 and older, no right to create
roles, the login refused by ``pg_hba.conf``), the console runs as the studio's
own user and accepts plain reads only (see `codex_db.studio._console`); as a
superuser it is not offered at all unless asked for (``console_superuser``).
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Literal

import msgspec
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

__all__ = ["ConsoleMode", "ConsoleRole", "drop_console_role", "prepare_console_role"]

ConsoleMode = Literal["reader", "plain-reads", "off"]

_CHECK = """
SELECT current_setting('server_version_num')::int, r.rolsuper, r.rolcreaterole,
       CASE WHEN to_regrole('pg_read_all_data') IS NULL THEN false
            ELSE pg_has_role(current_user, 'pg_read_all_data'::text, 'USAGE') END,
       current_setting('search_path'), current_user
FROM pg_roles r WHERE r.rolname = current_user
"""


class ConsoleRole(msgspec.Struct, frozen=True, kw_only=True):
    """How console statements connect and what they may be: chosen once per studio run."""

    mode: ConsoleMode
    conninfo: str = ""
    """What the console connects with (carries the reader's password: never show it)."""
    role: str = ""
    """The role console statements run as."""
    search_path: str = ""
    """The studio user's ``search_path``, given to the reader so names resolve the same."""
    reason: str = ""
    """Why the console is not the reader (shown on the console page)."""

    def __repr__(self) -> str:
        return f"ConsoleRole(mode={self.mode!r}, role={self.role!r})"


def prepare_console_role(url: str, *, superuser_ok: bool = False) -> ConsoleRole:
    """Create and check this run's reader role for the database at *url*, or say why not.

    Use once at start; `drop_console_role()` when the studio stops. Never
    raises for the database's refusals: they become a weaker mode and its reason.
    """
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            return _prepare(conn, url, superuser_ok)
    except psycopg.Error as exc:
        reason = f"could not check the database's roles: {str(exc).strip()}"
        return ConsoleRole(mode="off", reason=reason)


def drop_console_role(url: str, console: ConsoleRole) -> None:
    """Drop the reader role `prepare_console_role()` made (nothing for the other modes)."""
    if console.mode != "reader":
        return
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(console.role)))
    except psycopg.Error:
        pass  # the server is gone: a leftover role only reads, and its password is lost


def _prepare(
    conn: psycopg.Connection[tuple[object, ...]], url: str, superuser_ok: bool
) -> ConsoleRole:
    row = conn.execute(_CHECK).fetchone()
    assert row is not None
    version, superuser, createrole, reads_all, search_path, user = row
    if int(str(version)) < 140000:
        why = "PostgreSQL 13 and older have no pg_read_all_data role"
    elif not reads_all:
        why = f"{user} cannot read all data itself (pg_read_all_data), so its reader could not"
    elif not (superuser or createrole):
        why = f"{user} may not create roles (CREATEROLE)"
    else:
        reader = _try_reader(conn, url, str(search_path))
        if isinstance(reader, ConsoleRole):
            return reader
        why = reader
    return _fallback(url, bool(superuser), str(user), why, superuser_ok)


def _try_reader(
    conn: psycopg.Connection[tuple[object, ...]], url: str, search_path: str
) -> ConsoleRole | str:
    """The reader role, created and logged into once; or why it could not be."""
    name = f"codex_studio_console_{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(24)
    # Only the SCRAM verifier reaches the server (and so its statement log).
    verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), None).decode()
    role = sql.Identifier(name)
    try:
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                " CONNECTION LIMIT 8 PASSWORD {} IN ROLE pg_read_all_data"
            ).format(role, sql.Literal(verifier))
        )
        conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
    except psycopg.Error as exc:
        return f"could not create a read-only role: {str(exc).strip()}"
    conninfo = make_conninfo(url, user=name, password=password)
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as probe:
            probe.execute("SELECT 1")
    except psycopg.Error as exc:
        with contextlib.suppress(psycopg.Error):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        return f"the server refused a login as a read-only role: {str(exc).strip()}"
    return ConsoleRole(mode="reader", conninfo=conninfo, role=name, search_path=search_path)


def _fallback(url: str, superuser: bool, user: str, why: str, superuser_ok: bool) -> ConsoleRole:
    if superuser and not superuser_ok:
        reason = (
            f"{why}; the console would run as the superuser {user}, so it is off."
            " Start the studio with --console-as-superuser to allow plain reads as"
            f" {user}, or connect as a user that is not a superuser"
        )
        return ConsoleRole(mode="off", role=user, reason=reason)
    reason = f"{why}: plain reads only, as {user}"
    return ConsoleRole(mode="plain-reads", conninfo=url, role=user, reason=reason)
