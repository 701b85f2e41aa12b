"""The resolver: one answer to "which database, production or not, pooled or not, embedded"."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from codex_db import ConfigError, Database, DBMethod, Pooler, Settings, _target, migrate
from codex_db._dsn import direct_url, is_pooled, is_pooler_host
from codex_db.cli import main
from codex_db.config import is_production
from codex_db.server import start_embedded
from tests._project import ALL

NEON = "postgresql://app:pw@ep-cool-123456.us-east-2.aws.neon.tech/codex"
POOLED = "postgresql://app:pw@ep-cool-123456-pooler.us-east-2.aws.neon.tech/codex"
LOCAL = "postgresql://postgres@127.0.0.1:5432/codex"


# -- which database -----------------------------------------------------------------------------

WHICH = [
    # environment, method, source, where the URL comes from (None: embedded)
    ({}, DBMethod.EMBEDDED, "embedded", None),
    ({"DATABASE_URL": LOCAL}, DBMethod.URL, "DATABASE_URL", LOCAL),
    ({"DB_METHOD": "EMBEDDED", "DATABASE_URL": LOCAL}, DBMethod.EMBEDDED, "embedded", None),
    (
        {"DB_METHOD": "LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY": LOCAL, "DATABASE_URL": NEON},
        DBMethod.LOCAL_PROXY,
        "DATABASE_URL_LOCAL_PROXY",
        LOCAL,
    ),
    (
        {"DB_METHOD": "NEON_BRANCH", "DATABASE_URL": NEON},
        DBMethod.NEON_BRANCH,
        "DATABASE_URL",
        NEON,
    ),
    ({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON}, DBMethod.PRODUCTION, "DATABASE_URL", NEON),
    (
        {"DB_METHOD": " production ", "DATABASE_URL": NEON},
        DBMethod.PRODUCTION,
        "DATABASE_URL",
        NEON,
    ),
]


@pytest.mark.parametrize(("env", "method", "source", "url"), WHICH)
def test_which_database(
    env: dict[str, str], method: DBMethod, source: str, url: str | None
) -> None:
    """Each DB_METHOD (and none) picks its variable, or the embedded server."""
    target = _target.resolve(environ=env)
    assert (target.method, target.source, target.embedded) == (method, source, url is None)
    if url is None:
        assert target.url is None and "embedded" in target.display
    else:
        assert target.conninfo.startswith(url)


def test_an_explicit_url_wins_over_the_environment() -> None:
    """--url (or resolve(url)) is used whatever DB_METHOD and DATABASE_URL say."""
    env = {"DB_METHOD": "LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY": NEON}
    target = _target.resolve(LOCAL, environ=env)
    assert (target.source, target.conninfo, target.embedded) == ("--url", LOCAL, False)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"DB_METHOD": "NEON"}, "unknown DB_METHOD='NEON'"),
        ({"DB_METHOD": "PRODUCTION"}, "DB_METHOD=PRODUCTION needs DATABASE_URL"),
        ({"DB_METHOD": "LOCAL_PROXY", "DATABASE_URL": LOCAL}, "needs DATABASE_URL_LOCAL_PROXY"),
        ({"NODE_ENV": "production", "APP_ENV": "test"}, "disagree"),
        ({"NODE_ENV": "production"}, "refuses the embedded database"),
        ({"DATABASE_POOLER": "session", "DATABASE_URL": LOCAL}, "unknown DATABASE_POOLER"),
    ],
)
def test_bad_environments_name_the_variable(env: dict[str, str], error: str) -> None:
    """Invalid combinations fail with one message naming the variable, before any I/O."""
    with pytest.raises(ConfigError, match=error):
        _target.resolve(environ=env)


# -- production ---------------------------------------------------------------------------------

PRODUCTION = [
    # environment, explicit url?, production
    ({"DATABASE_URL": LOCAL}, None, False),
    ({"DATABASE_URL": LOCAL, "NODE_ENV": "production"}, None, True),
    ({"DATABASE_URL": LOCAL, "APP_ENV": "Production"}, None, True),
    ({"DATABASE_URL": LOCAL, "NODE_ENV": "production", "APP_ENV": "production"}, None, True),
    ({"DATABASE_URL": LOCAL, "NODE_ENV": "test"}, None, False),
    ({"DB_METHOD": "NEON_BRANCH", "DATABASE_URL": NEON}, None, False),
    ({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON}, None, True),
    ({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON, "APP_ENV": "staging"}, None, True),
    ({"DB_METHOD": "LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY": LOCAL}, None, False),
    ({}, None, False),  # embedded
    # An explicit URL: the environment still says whether this is production.
    ({}, LOCAL, False),
    ({"NODE_ENV": "production"}, LOCAL, True),
    ({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON}, LOCAL, True),
    ({"DB_METHOD": "NEON_BRANCH", "DATABASE_URL": NEON}, LOCAL, False),
]


@pytest.mark.parametrize(("env", "url", "production"), PRODUCTION)
def test_what_counts_as_production(env: dict[str, str], url: str | None, production: bool) -> None:
    """Production: DB_METHOD=PRODUCTION or NODE_ENV/APP_ENV=production, with or without --url."""
    assert _target.resolve(url, environ=env).production is production


def test_settings_and_targets_share_the_rule() -> None:
    """Settings.is_production, Target.production and config.is_production agree."""
    for method in DBMethod:
        for environment in ("development", "test", "production", "PRODUCTION"):
            expected = method is DBMethod.PRODUCTION or environment.lower() == "production"
            assert is_production(method, environment) is expected
    settings = Settings.from_url(NEON, method="PRODUCTION")
    assert settings.is_production and _target.of(settings).production


# -- pooled -------------------------------------------------------------------------------------

HOSTS = [
    ("ep-cool-123456-pooler.us-east-2.aws.neon.tech", True),
    ("EP-COOL-123456-POOLER.us-east-2.aws.neon.tech", True),
    ("ep-x-pooler", True),
    ("ep-cool-123456.us-east-2.aws.neon.tech", False),
    ("pooler.example.com", False),
    ("-pooler.example.com", False),
    ("my-pooler-db.example.com", False),
    ("db.ep-x-pooler.example.com", False),
    ("db.example.com-pooler", False),
    ("127.0.0.1", False),
    ("/run/postgresql", False),
]


@pytest.mark.parametrize(("host", "pooled"), HOSTS)
def test_pooler_host_rule(host: str, pooled: bool) -> None:
    """A Neon pooled host is one whose first label ends with -pooler; nothing else."""
    assert is_pooler_host(host) is pooled
    url = f"postgresql://app@{host}/codex" if "/" not in host else f"host={host} dbname=codex"
    assert is_pooled(url) is pooled
    assert _target.resolve(url, environ={}).pooler is (
        Pooler.TRANSACTION if pooled else Pooler.NONE
    )
    assert (direct_url(url) != url) is pooled


POOLER_MODES = [
    # DATABASE_POOLER, URL, expected mode, expected prepare_threshold is None
    (None, POOLED, Pooler.TRANSACTION, False),
    (None, NEON, Pooler.NONE, False),
    ("transaction", LOCAL, Pooler.TRANSACTION, False),
    ("TRANSACTION", LOCAL, Pooler.TRANSACTION, False),
    ("transaction-unprepared", POOLED, Pooler.TRANSACTION_UNPREPARED, True),
    (" Transaction-Unprepared ", LOCAL, Pooler.TRANSACTION_UNPREPARED, True),
    ("none", POOLED, Pooler.NONE, False),
]


@pytest.mark.parametrize(("variable", "url", "mode", "unprepared"), POOLER_MODES)
def test_pooler_mode(variable: str | None, url: str, mode: Pooler, unprepared: bool) -> None:
    """DATABASE_POOLER overrides the host rule, for env URLs and explicit ones alike."""
    env = {"DATABASE_URL": url} | ({"DATABASE_POOLER": variable} if variable else {})
    for target in (_target.resolve(environ=env), _target.resolve(url, environ=env)):
        assert target.pooler is mode
        assert (target.settings.prepare_threshold is None) is unprepared


def test_direct_url_strips_every_pooled_host() -> None:
    """Migrations and locks go to the direct host of each pooled one."""
    target = _target.resolve(POOLED, environ={})
    assert "ep-cool-123456.us-east-2.aws.neon.tech" in target.direct
    assert "-pooler" not in target.direct
    two = "postgresql://app@ep-a-pooler.neon.tech,ep-b-pooler.neon.tech/codex"
    assert "ep-a.neon.tech,ep-b.neon.tech" in direct_url(two)


# -- embedded and auto-migrate ------------------------------------------------------------------


def test_embedded_is_auto_migrated_by_default_and_not_when_configured() -> None:
    """The embedded server is migrated on first use unless Settings say otherwise."""
    target = _target.resolve(environ={})
    assert target.embedded and target.auto_migrate
    off = _target.of(Settings.embedded(auto_migrate=False))
    assert off.embedded and not off.auto_migrate
    assert not _target.resolve(LOCAL, environ={}).auto_migrate  # only the embedded one


def test_start_leaves_a_url_target_alone() -> None:
    """start() does no I/O for a target that has a URL."""
    target = _target.resolve(LOCAL, environ={})
    assert _target.start(target) is target


@pytest.mark.slow
def test_start_runs_the_embedded_server_and_migrates_only_when_asked(tmp_path: Path) -> None:
    """start(migrate=False) starts it without applying migrations; start() applies them."""
    settings = Settings.embedded(tmp_path / "pgdata")
    target = _target.of(settings)
    started = _target.start(target, migrate=False)
    try:
        assert started.url is not None and started.embedded
        with psycopg.connect(started.conninfo) as conn:
            assert conn.execute("SELECT to_regclass('users')").fetchone() == (None,)
        migrated = _target.start(target)
        with psycopg.connect(migrated.conninfo) as conn:
            assert conn.execute("SELECT to_regclass('users')").fetchone() == ("users",)
    finally:
        start_embedded(tmp_path / "pgdata").stop()


def _applied(client: Database) -> list[str]:
    """The migrations recorded as applied, through a runtime client (its first call starts it)."""
    rows = client.query("SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc")
    return [str(row[0]) for row in rows]


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
def test_a_rollback_of_the_embedded_database_stays_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The runtime migrates a fresh embedded database, not one `codex-db rollback` held back.

    `codex-db migrate` (or `reset`) brings it up to date and lets the runtime migrate it again.
    """
    data_dir = tmp_path / "pgdata"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CODEX_DB_EMBEDDED_DIR", str(data_dir))
    try:
        with Database() as client:
            assert _applied(client) == ALL  # fresh: migrated on the first call
        assert main(["rollback", "--yes"]) == 0
        with Database() as client:
            assert _applied(client) == ALL[:-1]  # held: the rolled-back one stays rolled back
        assert "will not migrate the embedded database again" in capsys.readouterr().out
        assert main(["migrate", "--skip-drift-check"]) == 0
        assert "the clients migrate it on start again" in capsys.readouterr().out
        migrate.rollback(start_embedded(data_dir).url)  # as a newly pulled migration would be
        with Database() as client:
            assert _applied(client) == ALL  # released: migrated again
        assert main(["rollback", "--yes"]) == 0
        assert (data_dir / _target.HOLD_FILE).is_file()
        assert main(["reset", "--yes"]) == 0  # recreated and migrated: released too
        assert not (data_dir / _target.HOLD_FILE).exists()
    finally:
        start_embedded(data_dir).stop()


def test_only_the_embedded_database_is_held() -> None:
    """A URL target is never auto-migrated: holding it does nothing."""
    target = _target.resolve(LOCAL, environ={})
    assert not _target.hold_migrations(target, "rolled back")
    assert _target.migrations_held(target) is None
