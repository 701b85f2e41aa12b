"""The database behind the code: generated queries name the pending migrations that would fix them.

The databases are real and stay behind on purpose: one with every migration but
the last applied and ``users.image`` dropped (as if that last migration added it),
one with only ``0001.auth`` (no ``content`` table), and one fully migrated with the
column dropped (nothing pending: the database differs from its migrations).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

from codex_db import (
    AsyncDatabaseWs,
    Database,
    DatabaseWs,
    PendingMigrationsError,
    Transaction,
    _pending_async,
    migrate,
    test_adb_connection,
    test_db_connection,
)
from codex_db._pending_base import describe, forget, pending_ids, query_name
from codex_db.dbtx import Conn, scalar
from codex_db.generated import content, users, users_async
from codex_db.testing import TestServer
from tests._project import ALL, LAST, run

AFTER_AUTH = ALL[1:]
MISSING_COLUMN = 'column "image" does not exist'


def _database(pg_server: TestServer, template: str, *statements: str, **rollback: Any) -> str:
    """A copy of the migrated *template*, rolled back as *rollback* says, then *statements*."""
    name = pg_server.create_database(template=template)
    url = pg_server.database_url(name)
    if rollback:
        migrate.rollback(url, **rollback)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())
    return name


@pytest.fixture(scope="module")
def databases(pg_server: TestServer, migrated_template: str) -> Iterator[dict[str, str]]:
    """URLs: ``behind`` (last pending, image dropped), ``auth`` (0001 only), ``current``."""
    drop = "ALTER TABLE users DROP COLUMN image"
    names = {
        "behind": _database(pg_server, migrated_template, drop, count=1),
        "auth": _database(pg_server, migrated_template, to="0001.auth"),
        "current": _database(pg_server, migrated_template, drop),
    }
    forget()
    yield {kind: pg_server.database_url(name) for kind, name in names.items()}
    for name in names.values():
        pg_server.drop_database(name)


@pytest.fixture
def behind(databases: dict[str, str]) -> str:
    return databases["behind"]


def _assert_behind(error: BaseException, name: str, pending: list[str], cls: type[Any]) -> None:
    """*error* names query *name* and *pending*, and is still psycopg's *cls* with its diag."""
    assert isinstance(error, PendingMigrationsError) and isinstance(error, cls)
    assert error.query_name == name and error.pending == tuple(pending)
    assert error.sqlstate == cls.sqlstate
    cause = error.__cause__
    assert type(cause) is cls and isinstance(cause, psycopg.Error)
    assert error.diag.message_primary == cause.diag.message_primary
    noun = "migration" if len(pending) == 1 else "migrations"
    message = str(error)
    assert message.startswith(f"{name}: ")
    assert f"{len(pending)} {noun} pending: run `codex-db migrate` ({pending[0]}" in message


# -- sync -------------------------------------------------------------------------------------


def test_autocommit_client_names_the_query_and_the_pending_migration(behind: str) -> None:
    """get_user on a database behind the code: GetUser, 1 pending, still an UndefinedColumn."""
    with Database.from_url(behind) as db:
        with pytest.raises(pg_errors.UndefinedColumn) as info:
            users.get_user(db, id="u1")
        _assert_behind(info.value, "GetUser", [LAST], pg_errors.UndefinedColumn)
        assert MISSING_COLUMN in str(info.value)
        assert db.query_one("SELECT 1") == (1,)  # the pooled connection is fine


def test_transaction_is_rolled_back_and_the_error_still_names_the_query(behind: str) -> None:
    """Inside a transaction (aborted by the failure) the check uses a connection of its own."""
    uid = f"u-{uuid.uuid4().hex[:8]}"

    def insert_then_read(tx: Transaction) -> object:
        tx.run("INSERT INTO users (id, name, email) VALUES (%s, 'A', %s)", (uid, f"{uid}@x"))
        return users.get_user(tx, id=uid)

    with DatabaseWs.from_url(behind) as db:
        with pytest.raises(PendingMigrationsError) as info:
            db.run_transaction(insert_then_read)
        _assert_behind(info.value, "GetUser", [LAST], pg_errors.UndefinedColumn)
        assert db.query_one("SELECT count(*) FROM users WHERE id = %s", (uid,)) == (0,)


def test_a_savepoint_keeps_the_outer_transaction(behind: str) -> None:
    """A failure in a nested block: the error is raised, the outer work commits."""
    uid = f"u-{uuid.uuid4().hex[:8]}"
    with DatabaseWs.from_url(behind) as db:
        with db.transaction() as tx:
            tx.run("INSERT INTO users (id, name, email) VALUES (%s, 'A', %s)", (uid, f"{uid}@x"))
            with pytest.raises(PendingMigrationsError), tx.transaction() as inner:
                users.list_users(inner, include_deleted=False, skip_rows=0, max_rows=10)
        assert db.query_one("SELECT count(*) FROM users WHERE id = %s", (uid,)) == (1,)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda db: content.get_content(db, id=uuid.uuid4()), id="fetch_one"),
        pytest.param(
            lambda db: content.list_published_content_first_page(db, max_rows=5), id="all"
        ),
        pytest.param(lambda db: content.soft_delete_content(db, id=uuid.uuid4()), id="execute"),
        pytest.param(lambda db: content.import_content(db, []), id="copy_rows"),
        pytest.param(
            lambda db: list(db.stream(content.GET_CONTENT, (uuid.uuid4(),), scalar)), id="stream"
        ),
    ],
)
def test_every_kind_of_query_on_a_missing_table(
    databases: dict[str, str], call: Callable[[Database], object]
) -> None:
    """Only 0001.auth applied: content's queries fail with UndefinedTable, the rest pending."""
    with (
        Database.from_url(databases["auth"]) as db,
        pytest.raises(pg_errors.UndefinedTable) as info,
    ):
        call(db)
    error = info.value
    assert isinstance(error, PendingMigrationsError)
    assert error.pending == tuple(AFTER_AUTH)
    assert 'relation "content" does not exist' in str(error)
    listed = ", ".join(AFTER_AUTH[:3])
    more = len(AFTER_AUTH) - 3
    assert (
        f"{len(AFTER_AUTH)} migrations pending: run `codex-db migrate` ({listed} and {more} more)"
        in str(error)
    )


@pytest.mark.parametrize(
    ("statement", "cls"),
    [
        ("SELECT 1 FROM no_such_table", pg_errors.UndefinedTable),
        ("SELECT no_such_column FROM users", pg_errors.UndefinedColumn),
        ("SELECT no_such_function()", pg_errors.UndefinedFunction),
        ("SELECT 'x'::no_such_type", pg_errors.UndefinedObject),
    ],
)
def test_each_undefined_error_keeps_its_class(behind: str, statement: str, cls: type[Any]) -> None:
    """Table, column, function, type: each becomes the PendingMigrationsError of its class."""
    query = f"-- name: Probe :one\n{statement}"
    with psycopg.connect(behind, autocommit=True) as conn:
        with pytest.raises(cls) as info:
            Conn.of(conn).fetch_one(query, (), scalar)
        _assert_behind(info.value, "Probe", [LAST], cls)
        assert type(info.value) is getattr(PendingMigrationsError, cls.__name__)


def test_the_error_pickles(behind: str) -> None:
    """Like psycopg's errors, it survives pickling (multiprocessing, task queues)."""
    with Database.from_url(behind) as db, pytest.raises(PendingMigrationsError) as info:
        users.get_user(db, id="u1")
    copy = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own object
    assert type(copy) is type(info.value)
    assert (copy.query_name, copy.pending, str(copy)) == ("GetUser", (LAST,), str(info.value))
    assert copy.diag.message_primary == MISSING_COLUMN


def test_nothing_pending_leaves_the_error_psycopgs(databases: dict[str, str]) -> None:
    """Fully migrated but the column is gone: the original error, with a note saying so."""
    with (
        Database.from_url(databases["current"]) as db,
        pytest.raises(pg_errors.UndefinedColumn) as info,
    ):
        users.get_user(db, id="u1")
    assert type(info.value) is pg_errors.UndefinedColumn
    assert str(info.value).startswith(MISSING_COLUMN)
    assert any("no migration is pending" in note for note in info.value.__notes__)


def test_hand_written_statements_are_not_checked(behind: str) -> None:
    """No ``-- name:`` line, not generated code: psycopg's error as it was, without a note."""
    with (
        psycopg.connect(behind, autocommit=True) as conn,
        pytest.raises(pg_errors.UndefinedColumn) as info,
    ):
        Conn.of(conn).fetch_one("SELECT image FROM users", (), scalar)
    assert type(info.value) is pg_errors.UndefinedColumn
    assert not getattr(info.value, "__notes__", [])


@pytest.fixture
def unprivileged(behind: str, pg_server: TestServer) -> Iterator[str]:
    """The URL of *behind* as a role that may read ``users`` but not ``_yoyo_migration``."""
    role = f"codex_noyoyo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(behind, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT SELECT ON users TO {}").format(sql.Identifier(role)))
    try:
        yield psycopg.conninfo.make_conninfo(behind, user=role)
    finally:
        with psycopg.connect(behind, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _in_autocommit(db: DatabaseWs) -> object:
    return users.get_user(db, id="u1")


def _in_transaction(db: DatabaseWs) -> object:
    return db.run_transaction(lambda tx: users.get_user(tx, id="u1"))


@pytest.mark.parametrize("call", [_in_autocommit, _in_transaction])
def test_a_failing_check_raises_the_original_error(
    unprivileged: str, call: Callable[[DatabaseWs], object]
) -> None:
    """The check itself fails (no permission): psycopg's error, and the connection still works."""
    forget()
    with DatabaseWs.from_url(unprivileged) as db:
        with pytest.raises(pg_errors.UndefinedColumn) as info:
            call(db)
        assert type(info.value) is pg_errors.UndefinedColumn
        assert db.query_one("SELECT 1") == (1,)


# -- async ------------------------------------------------------------------------------------


def test_async_autocommit_and_transaction(behind: str) -> None:
    """The async clients raise the same error, in autocommit mode and in a transaction."""

    async def main() -> list[BaseException]:
        found: list[BaseException] = []
        async with AsyncDatabaseWs.from_url(behind) as db:
            for in_transaction in (False, True):
                try:
                    if in_transaction:
                        async with db.transaction() as tx:
                            await users_async.get_user(tx, id="u1")
                    else:
                        await users_async.get_user(db, id="u1")
                except pg_errors.UndefinedColumn as exc:
                    found.append(exc)
            assert await db.query_one("SELECT 1") == (1,)
        return found

    errors = asyncio.run(main())
    assert len(errors) == 2
    for error in errors:
        _assert_behind(error, "GetUser", [LAST], pg_errors.UndefinedColumn)


def test_async_nothing_pending(databases: dict[str, str]) -> None:
    """Async, nothing pending: psycopg's own class."""

    async def main() -> BaseException:
        async with AsyncDatabaseWs.from_url(databases["current"]) as db:
            with pytest.raises(pg_errors.UndefinedColumn) as info:
                await users_async.get_user(db, id="u1")
        return info.value

    assert type(asyncio.run(main())) is pg_errors.UndefinedColumn


def test_async_check_on_a_raw_connection_in_a_transaction(behind: str) -> None:
    """`AsyncConn` on a connection left in a failed transaction: a fresh connection answers."""

    async def main() -> list[str] | None:
        async with await psycopg.AsyncConnection.connect(behind) as conn:
            await conn.execute("SELECT 1")
            with pytest.raises(pg_errors.UndefinedColumn):
                await conn.execute("SELECT image FROM users")
            assert conn.info.transaction_status is psycopg.pq.TransactionStatus.INERROR
            forget()
            return await _pending_async.pending(conn)

    assert asyncio.run(main()) == [LAST]


# -- connection check and doctor --------------------------------------------------------------


def test_db_connection_warns_and_returns_true(
    databases: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """test_db_connection is True when SELECT 1 works, and logs what is pending."""
    caplog.set_level(logging.WARNING, logger="codex_db")
    assert test_db_connection(Database.from_url(databases["behind"])) is True
    assert f"1 migration pending: run `codex-db migrate` ({LAST})" in caplog.text
    caplog.clear()
    assert asyncio.run(test_adb_connection(AsyncDatabaseWs.from_url(databases["auth"]))) is True
    assert f"{len(AFTER_AUTH)} migrations pending" in caplog.text
    caplog.clear()
    assert test_db_connection(Database.from_url(databases["current"])) is True
    assert "pending" not in caplog.text


@pytest.mark.usefixtures("clean_env")
def test_doctor_says_to_migrate(
    databases: dict[str, str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """doctor's migrations line: how many are pending and the command that applies them."""
    assert run(project, "doctor", "--url", databases["behind"]) == 0
    out = capsys.readouterr().out
    assert f"migrations:  1 pending (run codex-db migrate): {LAST}; {len(ALL) - 1} applied" in out
    assert run(project, "doctor", "--url", databases["current"]) == 0
    assert f"migrations:  {len(ALL)} applied, 0 pending" in capsys.readouterr().out


# -- the rule ---------------------------------------------------------------------------------


def test_the_rule_and_its_words() -> None:
    """Pending: in the folder, not applied, in file order; the message lists three at most."""
    assert pending_ids(["0001.a", "0002.b", "0003.c"], {"0002.b"}) == ["0001.a", "0003.c"]
    assert describe(["0007.x"]) == "1 migration pending: run `codex-db migrate` (0007.x)"
    assert describe(list("abcde")).endswith("(a, b, c and 2 more)")
    assert query_name(users.GET_USER) == "GetUser"
    assert query_name(content.IMPORT_CONTENT) == "ImportContent"
    assert query_name("SELECT 1") is None
