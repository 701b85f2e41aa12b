"""Settings from the environment and from explicit arguments (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_db import ConfigError, DBMethod, Pooler, Settings
from codex_db._dsn import Secret
from codex_db.config import DIRECT_PREPARE_THRESHOLD

NEON = "postgresql://app:s3cret@ep-cool-darkness-123456.us-east-2.aws.neon.tech/codex"
OTHER_HOST = "postgresql://app:s3cret@db.example.com/codex"
NEON_POOLER = "postgresql://app:s3cret@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/codex"
LOCAL = "postgresql://postgres:password@db.localtest.me:5432/codex"


class TestMethodSelection:
    def test_no_method_and_no_url_is_embedded(self) -> None:
        """With neither DB_METHOD nor DATABASE_URL, the embedded server is the default."""
        settings = Settings.from_env({})
        assert settings.method is DBMethod.EMBEDDED
        assert settings.conninfo is None

    def test_no_method_with_url_uses_the_url_as_given(self) -> None:
        """DB_METHOD unset and DATABASE_URL set: that URL, without TLS rules."""
        settings = Settings.from_env({"DATABASE_URL": "postgresql://postgres@127.0.0.1/codex"})
        assert settings.method is DBMethod.URL
        assert settings.conninfo == "postgresql://postgres@127.0.0.1/codex"

    def test_embedded_explicitly_ignores_database_url(self) -> None:
        """DB_METHOD=EMBEDDED selects the embedded server even when DATABASE_URL is set."""
        env = {"DB_METHOD": "EMBEDDED", "DATABASE_URL": LOCAL}
        assert Settings.from_env(env).method is DBMethod.EMBEDDED

    def test_local_proxy_reads_its_own_variable(self) -> None:
        """LOCAL_PROXY takes DATABASE_URL_LOCAL_PROXY, not DATABASE_URL."""
        env = {"DB_METHOD": "LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY": LOCAL, "DATABASE_URL": NEON}
        settings = Settings.from_env(env)
        assert settings.method is DBMethod.LOCAL_PROXY
        assert settings.conninfo is not None
        assert "db.localtest.me" in settings.conninfo
        assert "sslmode" not in settings.conninfo

    @pytest.mark.parametrize("method", ["NEON_BRANCH", "PRODUCTION"])
    def test_remote_methods_default_to_tls(self, method: str) -> None:
        """NEON_BRANCH and PRODUCTION add sslmode=require when the URL has no sslmode."""
        settings = Settings.from_env({"DB_METHOD": method, "DATABASE_URL": OTHER_HOST})
        assert settings.method == method
        assert settings.conninfo is not None
        assert settings.conninfo.endswith("?sslmode=require")

    @pytest.mark.parametrize("method", ["NEON_BRANCH", "PRODUCTION", "URL"])
    def test_neon_hosts_verify_the_certificate(self, method: str) -> None:
        """A Neon host without sslmode gets verify-full against the system's CA store."""
        settings = Settings.from_url(NEON_POOLER, method=method)
        assert (settings.conninfo or "").endswith("?sslmode=verify-full&sslrootcert=system")
        explicit = Settings.from_url(f"{NEON}?sslmode=require&channel_binding=require")
        assert "sslmode=require" in (explicit.conninfo or "")
        assert "sslrootcert" not in (explicit.conninfo or "")  # an explicit sslmode is kept

    @pytest.mark.parametrize("sslmode", ["require", "verify-ca", "verify-full"])
    def test_remote_methods_keep_strong_sslmodes(self, sslmode: str) -> None:
        """An explicit strong sslmode is kept as it is."""
        env = {"DB_METHOD": "PRODUCTION", "DATABASE_URL": f"{NEON}?sslmode={sslmode}"}
        assert f"sslmode={sslmode}" in (Settings.from_env(env).conninfo or "")

    def test_method_is_case_insensitive(self) -> None:
        """DB_METHOD=production works like PRODUCTION."""
        env = {"DB_METHOD": " production ", "DATABASE_URL": NEON}
        assert Settings.from_env(env).method is DBMethod.PRODUCTION

    def test_empty_variables_count_as_unset(self) -> None:
        """An empty DATABASE_URL (e.g. ``DATABASE_URL=`` in a shell) means unset."""
        assert Settings.from_env({"DATABASE_URL": "", "DB_METHOD": ""}).method is DBMethod.EMBEDDED


class TestEnvironment:
    def test_app_env_is_a_synonym_of_node_env(self) -> None:
        """APP_ENV=production counts like NODE_ENV=production."""
        env = {"APP_ENV": "production", "DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON}
        assert Settings.from_env(env).is_production

    def test_default_environment_is_development(self) -> None:
        """Without NODE_ENV/APP_ENV the environment is development."""
        assert Settings.from_env({}).environment == "development"

    def test_disagreeing_node_env_and_app_env_are_refused(self) -> None:
        """NODE_ENV and APP_ENV saying different things is an error naming both."""
        with pytest.raises(ConfigError, match="NODE_ENV=test and APP_ENV=production disagree"):
            Settings.from_env({"NODE_ENV": "test", "APP_ENV": "production"})


class TestConfigErrors:
    def test_unknown_method_lists_the_valid_ones(self) -> None:
        """An unknown DB_METHOD names itself and every valid value."""
        with pytest.raises(ConfigError) as info:
            Settings.from_env({"DB_METHOD": "HTTP"})
        assert str(info.value) == (
            "unknown DB_METHOD='HTTP': expected one of"
            " LOCAL_PROXY | NEON_BRANCH | PRODUCTION | EMBEDDED"
        )

    @pytest.mark.parametrize(
        ("method", "variable"),
        [
            ("LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY"),
            ("NEON_BRANCH", "DATABASE_URL"),
            ("PRODUCTION", "DATABASE_URL"),
        ],
    )
    def test_missing_url_names_the_variable(self, method: str, variable: str) -> None:
        """A method without its URL names the variable it needs."""
        with pytest.raises(ConfigError, match=f"DB_METHOD={method} needs {variable}:"):
            Settings.from_env({"DB_METHOD": method})

    @pytest.mark.parametrize("env_var", ["NODE_ENV", "APP_ENV"])
    def test_local_proxy_is_refused_in_production(self, env_var: str) -> None:
        """LOCAL_PROXY with a production environment is refused."""
        env = {env_var: "production", "DB_METHOD": "LOCAL_PROXY", "DATABASE_URL_LOCAL_PROXY": LOCAL}
        with pytest.raises(ConfigError, match="refuses DB_METHOD=LOCAL_PROXY"):
            Settings.from_env(env)

    @pytest.mark.parametrize("env", [{"DB_METHOD": "EMBEDDED"}, {}], ids=["explicit", "default"])
    def test_embedded_is_refused_in_production(self, env: dict[str, str]) -> None:
        """The embedded server, chosen or by default, is refused in production."""
        with pytest.raises(ConfigError, match="refuses the embedded database"):
            Settings.from_env({**env, "NODE_ENV": "production"})

    @pytest.mark.parametrize("method", ["NEON_BRANCH", "PRODUCTION"])
    @pytest.mark.parametrize("sslmode", ["disable", "allow", "prefer"])
    def test_weak_sslmode_is_refused(self, method: str, sslmode: str) -> None:
        """NEON_BRANCH and PRODUCTION refuse an sslmode that allows plain text."""
        env = {"DB_METHOD": method, "DATABASE_URL": f"{NEON}?sslmode={sslmode}"}
        with pytest.raises(
            ConfigError, match=f"requires TLS but DATABASE_URL has sslmode={sslmode}"
        ):
            Settings.from_env(env)

    def test_unknown_pooler_lists_the_valid_ones(self) -> None:
        """DATABASE_POOLER accepts transaction or none."""
        with pytest.raises(ConfigError, match="DATABASE_POOLER='session': expected one of none"):
            Settings.from_env({"DATABASE_URL": LOCAL, "DATABASE_POOLER": "session"})

    def test_invalid_url_is_reported_without_the_password(self) -> None:
        """A malformed URL is an error; the password in it is not repeated."""
        env = {"DATABASE_URL": "postgresql://app:s3cret word@host/db"}
        with pytest.raises(
            ConfigError, match="DATABASE_URL is not a valid connection string"
        ) as info:
            Settings.from_env(env)
        assert "s3cret" not in str(info.value)

    def test_pool_sizes_are_checked(self) -> None:
        """min_size must be positive and not above max_size."""
        with pytest.raises(ConfigError, match="min_size=5 max_size=2"):
            Settings.from_url(LOCAL, min_size=5, max_size=2)

    def test_constructor_checks_tls_too(self) -> None:
        """Building Settings directly cannot skip the TLS rule."""
        with pytest.raises(ConfigError, match="requires TLS"):
            Settings(method=DBMethod.PRODUCTION, url=Secret.of(f"{NEON}?sslmode=disable"))


class TestPooler:
    def test_pooler_host_keeps_prepared_statements(self) -> None:
        """A ``-pooler`` host is Neon's PgBouncer: transaction pooling, which maps prepared
        statements (max_prepared_statements), so they are kept."""
        settings = Settings.from_env({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON_POOLER})
        assert settings.pooler is Pooler.TRANSACTION
        assert settings.prepare_threshold == DIRECT_PREPARE_THRESHOLD

    def test_unprepared_mode(self) -> None:
        """transaction-unprepared: a pooler without prepared-statement support."""
        settings = Settings.from_url(LOCAL, pooler="transaction-unprepared")
        assert settings.pooler is Pooler.TRANSACTION_UNPREPARED
        assert settings.prepare_threshold is None and settings.pooler.per_transaction

    def test_direct_host_prepares_statements(self) -> None:
        """A direct connection prepares repeated statements."""
        settings = Settings.from_env({"DB_METHOD": "PRODUCTION", "DATABASE_URL": NEON})
        assert settings.pooler is Pooler.NONE
        assert settings.prepare_threshold == DIRECT_PREPARE_THRESHOLD

    def test_explicit_pooler_variable_wins_both_ways(self) -> None:
        """DATABASE_POOLER overrides the host name, for PgBouncer elsewhere or a newer pooler."""
        on = Settings.from_env({"DATABASE_URL": LOCAL, "DATABASE_POOLER": "transaction"})
        off = Settings.from_env({"DATABASE_URL": NEON_POOLER, "DATABASE_POOLER": "none"})
        assert (on.pooler, on.prepare_threshold) == (Pooler.TRANSACTION, DIRECT_PREPARE_THRESHOLD)
        assert (off.pooler, off.prepare_threshold) == (Pooler.NONE, DIRECT_PREPARE_THRESHOLD)

    def test_explicit_prepare_threshold_wins(self) -> None:
        """An explicit prepare_threshold overrides the pooler's default."""
        settings = Settings.from_url(NEON_POOLER, prepare_threshold=5)
        assert (settings.pooler, settings.prepare_threshold) == (Pooler.TRANSACTION, 5)


class TestExplicitSettings:
    def test_from_url_without_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """from_url ignores the environment, for services holding several databases."""
        monkeypatch.setenv("DB_METHOD", "NONSENSE")
        settings = Settings.from_url(LOCAL, max_size=3, pool_timeout=2.5)
        assert (settings.method, settings.max_size, settings.pool_timeout) == (DBMethod.URL, 3, 2.5)

    def test_from_url_with_a_method_applies_its_rules(self) -> None:
        """from_url(method=PRODUCTION) enforces TLS like the environment does."""
        settings = Settings.from_url(OTHER_HOST, method="PRODUCTION")
        assert (settings.conninfo or "").endswith("sslmode=require")

    def test_embedded_settings_take_a_data_dir(self, tmp_path: Path) -> None:
        """Settings.embedded() points the embedded server at a data directory."""
        settings = Settings.embedded(tmp_path / "pg")
        assert (settings.method, settings.data_dir) == (DBMethod.EMBEDDED, tmp_path / "pg")

    def test_key_value_conninfo_becomes_a_url(self) -> None:
        """A libpq key/value string is accepted and normalised to a URL."""
        settings = Settings.from_url("host=127.0.0.1 port=5432 user=postgres dbname=codex")
        assert settings.conninfo == "postgresql://postgres@127.0.0.1:5432/codex"

    def test_the_package_never_reads_dotenv_files(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A .env file in the working directory changes nothing."""
        (tmp_path / ".env").write_text("DB_METHOD=PRODUCTION\nDATABASE_URL=postgresql://x@y/z\n")
        monkeypatch.chdir(tmp_path)
        assert Settings.from_env({}).method is DBMethod.EMBEDDED
