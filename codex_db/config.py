"""Connection settings: which database to use and how to talk to it.

`Settings.from_env()` reads the environment variables of the reference README
(``DB_METHOD``, ``DATABASE_URL``, ``DATABASE_URL_LOCAL_PROXY``, ``NODE_ENV`` or
``APP_ENV``, plus ``DATABASE_POOLER``); `Settings.from_url()` and
`Settings.embedded()` build settings without the environment. The package never
reads ``.env`` files. Resolving settings does no I/O: nothing connects until a
client runs its first statement.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict

from codex_db._dsn import Secret, is_neon_host, is_pooler_host, scrub, to_url
from codex_db.errors import ConfigError

__all__ = [
    "DIRECT_PREPARE_THRESHOLD",
    "DBMethod",
    "EnvFacts",
    "PoolOptions",
    "Pooler",
    "Settings",
    "is_production",
    "read_env",
]

#: psycopg's ``prepare_threshold`` on a direct connection: a statement is
#: prepared server-side the second time a connection runs it. Generated queries
#: run again and again, so they are prepared almost at once; one-off ad-hoc
#: statements never pay the extra round trip of a PREPARE.
DIRECT_PREPARE_THRESHOLD = 1

_TLS_METHODS = frozenset({"NEON_BRANCH", "PRODUCTION"})
_LOCAL_METHODS = frozenset({"LOCAL_PROXY", "EMBEDDED"})
_WEAK_SSLMODES = frozenset({"disable", "allow", "prefer"})


class DBMethod(StrEnum):
    """The connection strategy, chosen with ``DB_METHOD``."""

    LOCAL_PROXY = "LOCAL_PROXY"
    """Local development server (e.g. Docker Compose); URL in ``DATABASE_URL_LOCAL_PROXY``."""
    NEON_BRANCH = "NEON_BRANCH"
    """Ephemeral branch database (CI); URL in ``DATABASE_URL``; TLS required."""
    PRODUCTION = "PRODUCTION"
    """The production database; URL in ``DATABASE_URL``; TLS required."""
    EMBEDDED = "EMBEDDED"
    """The private PostgreSQL of the ``embedded`` extra; no URL."""
    URL = "URL"
    """``DB_METHOD`` unset and ``DATABASE_URL`` set: that URL, as given."""


class Pooler(StrEnum):
    """What sits between the client and PostgreSQL, chosen with ``DATABASE_POOLER``."""

    NONE = "none"
    """A direct connection (or a session-mode pooler): prepared statements are safe."""
    TRANSACTION = "transaction"
    """A transaction-mode pooler that maps prepared statements itself: Neon's ``-pooler``
    hosts (the default for them), PgBouncer 1.21+ with ``max_prepared_statements`` > 0.
    Prepared statements are kept; session settings are ``SET LOCAL`` per transaction."""
    TRANSACTION_UNPREPARED = "transaction-unprepared"
    """A transaction-mode pooler without prepared-statement support (PgBouncer before
    1.21, or ``max_prepared_statements = 0``): nothing is prepared."""

    @property
    def per_transaction(self) -> bool:
        """Whether server connections change between transactions (no session state)."""
        return self is not Pooler.NONE


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved settings of one database.

    Build them with `from_env()`, `from_url()` or `embedded()`, which fill in
    the derived values (TLS, pooler, prepare threshold); the constructor takes
    every value as given and only checks that they fit together.
    """

    method: DBMethod
    url: Secret | None = None
    """The libpq URL, held as a `Secret` (``settings.url.reveal()`` is the string);
    ``None`` for the embedded server, whose URL is known once it runs. A ``str``
    given to the constructor is wrapped."""
    environment: str = "development"
    pooler: Pooler = Pooler.NONE
    prepare_threshold: int | None = DIRECT_PREPARE_THRESHOLD
    """psycopg's ``prepare_threshold``: ``None`` disables server-side prepared statements."""
    min_size: int = 1
    max_size: int = 10
    pool_timeout: float = 30.0
    """Seconds a call waits for a free pooled connection before `PoolExhaustedError`."""
    data_dir: Path | None = None
    """The embedded server's data directory (``None``: `codex_db.server.default_data_dir()`)."""
    auto_migrate: bool = True
    """Apply pending migrations when the embedded server is first used."""
    application_name: str = "codex-db"
    read_urls: tuple[Secret, ...] = ()
    """Read replicas (``DATABASE_URL_READ``, comma-separated): the autocommit client's
    generated reads go to them (`codex_db.Database`); ``str`` items are wrapped."""
    read_max_lag: float | None = None
    """Seconds of replay lag past which a replica's reads go to the primary
    (``DATABASE_READ_MAX_LAG``); measured every few seconds, not per query."""

    def __post_init__(self) -> None:
        if isinstance(self.url, str):
            msgspec.structs.force_setattr(self, "url", Secret.of(self.url))
        if any(isinstance(u, str) for u in self.read_urls):
            wrapped = tuple(Secret.of(u) if isinstance(u, str) else u for u in self.read_urls)
            msgspec.structs.force_setattr(self, "read_urls", wrapped)
        _check(self)

    def replica(self, url: Secret) -> Settings:
        """These settings for the replica at *url* (same pool sizes, no replicas of its own)."""
        params = _verify_neon(_parse_url(url.reveal(), "DATABASE_URL_READ"))
        if self.method in _TLS_METHODS:
            params = _require_tls(params, self.method, "DATABASE_URL_READ")
        pooler = _pooler(None if self.pooler is Pooler.NONE else self.pooler, params, "")
        return msgspec.structs.replace(
            self, url=Secret.of(to_url(_join(params))), read_urls=(), pooler=pooler
        )

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={_display(getattr(self, name))}" for name in self.__struct_fields__
        )
        return f"Settings({fields})"

    __str__ = __repr__

    def __rich_repr__(self) -> Any:
        for name in self.__struct_fields__:
            yield name, getattr(self, name)

    @property
    def display_url(self) -> str:
        """The URL with its password replaced by ``***``: safe for logs and messages."""
        return self.url.shown if self.url else f"embedded PostgreSQL ({self.method})"

    @property
    def conninfo(self) -> str | None:
        """The real URL to connect with (``None`` for the embedded server); never log it."""
        return self.url.reveal() if self.url else None

    @property
    def is_production(self) -> bool:
        """Whether this is production: ``DB_METHOD=PRODUCTION`` or a production environment."""
        return is_production(self.method, self.environment)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment (or *environ*), as the reference README describes.

        Use it for the process's main database; `codex_db.db_http` and
        `codex_db.db_ws` call it on first use.

        Raises:
            ConfigError: naming the variable to set or fix.
        """
        env = _Env(os.environ if environ is None else environ)
        environment = env.environment()
        method = env.method()
        if method is DBMethod.EMBEDDED:
            return cls.embedded(environment=environment)
        url_var = "DATABASE_URL_LOCAL_PROXY" if method is DBMethod.LOCAL_PROXY else "DATABASE_URL"
        url = env.get(url_var)
        if url is None:
            raise ConfigError(f"DB_METHOD={method} needs {url_var}: set it to a postgresql:// URL")
        return cls.from_url(
            url,
            method=method,
            environment=environment,
            pooler=env.pooler(),
            source=url_var,
            read_urls=env.read_urls(),
            read_max_lag=env.read_max_lag(),
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        method: DBMethod | str = DBMethod.URL,
        environment: str = "development",
        pooler: Pooler | str | None = None,
        prepare_threshold: int | Literal["auto"] | None = "auto",
        source: str = "url",
        **options: Any,
    ) -> Settings:
        """Settings for the database at *url*, for services that hold several databases.

        *pooler* ``None`` detects Neon's pooled endpoint from a ``-pooler`` host
        name. *prepare_threshold* ``"auto"`` is ``None`` behind a transaction
        pooler and `DIRECT_PREPARE_THRESHOLD` otherwise. *options* are the other
        `Settings` fields (``max_size``, ``pool_timeout``...). *source* names
        where the URL came from, for error messages.
        """
        method = _method(str(method), source="method")
        params = _verify_neon(_parse_url(url, source))
        if method in _TLS_METHODS:
            params = _require_tls(params, method, source)
        resolved = _pooler(pooler, params, source)
        if prepare_threshold == "auto":
            prepare_threshold = (
                None if resolved is Pooler.TRANSACTION_UNPREPARED else DIRECT_PREPARE_THRESHOLD
            )
        return cls(
            method=method,
            url=Secret.of(to_url(_join(params))),
            environment=environment,
            pooler=resolved,
            prepare_threshold=prepare_threshold,
            **options,
        )

    @classmethod
    def embedded(
        cls, data_dir: Path | None = None, *, environment: str = "development", **options: Any
    ) -> Settings:
        """Settings for the embedded server (``pip install 'codex-db[embedded]'``).

        Its data lives in *data_dir*, by default `codex_db.server.default_data_dir()`
        (``$CODEX_DB_EMBEDDED_DIR``, else ``.codex-db/pgdata`` in the project root,
        else a per-user folder), and survives restarts.
        """
        return cls(
            method=DBMethod.EMBEDDED,
            environment=environment,
            data_dir=data_dir,
            **options,
        )


def is_production(method: DBMethod, environment: str) -> bool:
    """The one rule: ``DB_METHOD=PRODUCTION``, or ``NODE_ENV``/``APP_ENV`` is ``production``.

    Destructive commands, scratch databases, the studio and the test plugin
    all ask this (through `codex_db._target.resolve`).
    """
    return method is DBMethod.PRODUCTION or environment.lower() == "production"


class EnvFacts(msgspec.Struct, frozen=True):
    """What the environment variables say before a URL is chosen (`read_env()`)."""

    environment: str
    method: DBMethod
    pooler: Pooler | None

    @property
    def production(self) -> bool:
        """`is_production()` of these facts."""
        return is_production(self.method, self.environment)


def read_env(environ: Mapping[str, str] | None = None) -> EnvFacts:
    """The environment, method and pooler the variables name, checked.

    Raises:
        ConfigError: an unknown ``DB_METHOD`` or ``DATABASE_POOLER``, or
            ``NODE_ENV`` and ``APP_ENV`` disagreeing.
    """
    env = _Env(os.environ if environ is None else environ)
    return EnvFacts(env.environment(), env.method(), env.pooler())


class _Env:
    """Typed access to the environment variables; empty values count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def read_urls(self) -> tuple[str, ...]:
        value = self.get("DATABASE_URL_READ") or ""
        return tuple(part.strip() for part in value.split(",") if part.strip())

    def read_max_lag(self) -> float | None:
        value = self.get("DATABASE_READ_MAX_LAG")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise ConfigError(
                f"DATABASE_READ_MAX_LAG={value!r} is not a number of seconds (e.g. 2.5)"
            ) from None

    def environment(self) -> str:
        node_env, app_env = self.get("NODE_ENV"), self.get("APP_ENV")
        if node_env and app_env and node_env.lower() != app_env.lower():
            raise ConfigError(
                f"NODE_ENV={node_env} and APP_ENV={app_env} disagree: set only one of them"
            )
        return (app_env or node_env or "development").lower()

    def method(self) -> DBMethod:
        name = self.get("DB_METHOD")
        if name is None:
            return DBMethod.URL if self.get("DATABASE_URL") else DBMethod.EMBEDDED
        return _method(name, source="DB_METHOD")

    def pooler(self) -> Pooler | None:
        value = self.get("DATABASE_POOLER")
        return None if value is None else _pooler_value(value, "DATABASE_POOLER")


def _method(name: str, *, source: str) -> DBMethod:
    value = name.strip().upper()
    valid = [m.value for m in DBMethod if m is not DBMethod.URL]
    if value not in valid and not (source == "method" and value == DBMethod.URL):
        raise ConfigError(f"unknown {source}={name!r}: expected one of {' | '.join(valid)}")
    return DBMethod(value)


def _pooler_value(value: str, source: str) -> Pooler:
    try:
        return Pooler(value.strip().lower())
    except ValueError:
        valid = " | ".join(p.value for p in Pooler)
        raise ConfigError(f"unknown {source}={value!r}: expected one of {valid}") from None


def _pooler(pooler: Pooler | str | None, params: dict[str, str], source: str) -> Pooler:
    if pooler is not None:
        return _pooler_value(str(pooler), "DATABASE_POOLER")
    hosts = params.get("host", "").split(",")
    return Pooler.TRANSACTION if any(is_pooler_host(host) for host in hosts) else Pooler.NONE


def _parse_url(url: str, source: str) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except Exception as exc:
        message = scrub(str(exc).strip(), url)
        raise ConfigError(f"{source} is not a valid connection string: {message}") from None


#: libpq 16 added ``sslrootcert=system`` (the operating system's CA store).
_SYSTEM_ROOTS_LIBPQ = 160000


def _verify_neon(params: dict[str, str]) -> dict[str, str]:
    """A Neon host without ``sslmode``: ``verify-full`` against the system's CAs, so a
    server that is not the host named (a man in the middle) is refused. An explicit
    ``sslmode`` (``require``: encrypted, not verified) is kept."""
    hosts = [h for h in params.get("host", "").split(",") if h]
    if "sslmode" in params or not hosts or not all(is_neon_host(h) for h in hosts):
        return params
    if psycopg.pq.version() < _SYSTEM_ROOTS_LIBPQ:
        return {**params, "sslmode": "require"}  # no sslrootcert=system before libpq 16
    return {**params, "sslmode": "verify-full", "sslrootcert": params.get("sslrootcert", "system")}


def _require_tls(params: dict[str, str], method: DBMethod, source: str) -> dict[str, str]:
    sslmode = params.get("sslmode", "").lower()
    if sslmode in _WEAK_SSLMODES:
        raise ConfigError(
            f"DB_METHOD={method} requires TLS but {source} has sslmode={sslmode}:"
            " use sslmode=require (or verify-full), or leave it out to get require"
        )
    return params if sslmode else {**params, "sslmode": "require"}


def _check(settings: Settings) -> None:
    method = settings.method
    if settings.is_production and method in _LOCAL_METHODS:
        env = "NODE_ENV/APP_ENV=production"
        if method is DBMethod.EMBEDDED:
            raise ConfigError(
                f"{env} refuses the embedded database:"
                " set DB_METHOD=PRODUCTION and DATABASE_URL to the production database"
            )
        raise ConfigError(f"{env} refuses DB_METHOD={method}: use DB_METHOD=PRODUCTION")
    if (settings.url is None) != (method is DBMethod.EMBEDDED):
        raise ConfigError(
            f"DB_METHOD={method} {'needs' if settings.url is None else 'takes no'} url"
        )
    if method in _TLS_METHODS and settings.url is not None:
        _require_tls(_parse_url(settings.url.reveal(), "url"), method, "url")
    if not 0 < settings.min_size <= settings.max_size:
        raise ConfigError(
            f"pool sizes must satisfy 0 < min_size <= max_size,"
            f" got min_size={settings.min_size} max_size={settings.max_size}"
        )


def _join(params: dict[str, str]) -> str:
    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{k}={quote(v)}" for k, v in params.items())


def _display(value: object) -> str:
    if isinstance(value, StrEnum):
        return str(value)
    return repr(str(value) if isinstance(value, Path | Secret) else value)


class PoolOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How a client's pool treats its connections; the defaults suit scale-to-zero servers.

    Neon suspends an idle compute after 5 minutes, which closes every
    connection: a pooled connection idle for longer than *check_idle_after*
    seconds is tested (one empty query) before it is handed out, and a dead one
    is replaced, so the first call after a cold start does not fail. When a
    call finds its connection lost, the pool also tests all its idle ones.
    """

    check_idle_after: float | None = 30.0
    """Test a connection idle this many seconds when it is checked out (0: always; None: never)."""
    max_idle: float = 240.0
    """Close connections (above ``min_size``) idle this long: less than Neon's 5-minute suspend."""
    max_lifetime: float = 1800.0
    """Replace every connection after this many seconds (spreads reconnects, picks up failovers)."""
    statement_timeout: float | None = None
    """Client-wide default ``statement_timeout`` in seconds: set when a connection opens
    (with ``SET LOCAL`` in each transaction behind a pooler)."""
    deadline: float | None = 60.0
    """Client-side limit in seconds on each call (a transaction block: on the whole
    block), counted from checkout, enforced whatever the network does; past it the
    call raises `codex_db.DeadlineExceededError` and its connection is discarded.
    None: no limit. ``transaction(deadline=...)`` and `codex_db.deadline()` tighten it."""
