"""Which database, and what kind: the one answer for the clients, the CLI, the studio and tests.

`resolve()` turns the environment (or an explicit URL) into a `Target`
without I/O: its settings, where the URL came from, whether it is production,
whether it is pooled, whether it is the embedded server and whether that one is
migrated on first use. `start()` does the I/O a target may need before
anything connects: starting the embedded server and, for the runtime and the
studio, applying its pending migrations. Nothing else in the package decides
these questions; every caller asks here.

The rules:

- **Which database.** An explicit URL (``--url``, ``Database.from_url()``);
  else ``DB_METHOD``'s variable; else, with ``DB_METHOD`` unset,
  ``DATABASE_URL``; else the embedded server (`codex_db.config.Settings.from_env`).
- **Production.** ``NODE_ENV``/``APP_ENV`` is ``production``, or ``DB_METHOD``
  is ``PRODUCTION`` (`codex_db.config.is_production`), also when the URL is
  given explicitly.
- **Pooled.** ``DATABASE_POOLER`` when set, else a host whose first label ends
  with ``-pooler`` (`codex_db._dsn.is_pooler_host`).
- **Embedded and auto-migrate.** The embedded server is migrated when the
  runtime or the studio first uses it; the migration commands (``codex-db
  migrate``, ``status``, ``rollback``...) start it without migrating, since
  managing migrations is their job. After ``codex-db rollback`` it is *held*
  (`hold_migrations()`: a file in its data directory) and the runtime migrates
  it no more, so what was rolled back stays rolled back, until ``codex-db
  migrate`` or ``reset`` brings it up to date (`release_migrations()`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from codex_db._dsn import Secret, direct_url
from codex_db.config import DBMethod, Pooler, Settings, read_env

__all__ = [
    "HOLD_FILE",
    "Target",
    "connect_url",
    "hold_migrations",
    "migrations_held",
    "of",
    "release_migrations",
    "resolve",
    "start",
]

#: The file in the embedded server's data directory that stops the runtime migrating it.
HOLD_FILE = "codex-db-migrations-held"

_logger = logging.getLogger("codex_db")
#: Data directories whose hold this process has logged, so each is logged once.
_held_logged: set[Path] = set()


class Target(msgspec.Struct, frozen=True):
    """A database to work on, resolved; build it with `resolve()`, then `start()` it."""

    settings: Settings
    source: str
    """Where the URL came from: ``--url``, a variable name, ``url`` (code) or ``embedded``."""
    production: bool
    url: Secret | None = None
    """The URL to connect to; ``None`` for an embedded server not started yet."""
    data_dir: Path | None = None
    """The embedded server's data directory, once `start()` started it."""

    @property
    def embedded(self) -> bool:
        """Whether this is the package's embedded PostgreSQL."""
        return self.settings.method is DBMethod.EMBEDDED

    @property
    def auto_migrate(self) -> bool:
        """Whether `start()` applies pending migrations by default (the embedded server only).

        `start()` also skips them while the embedded database is held (`hold_migrations()`).
        """
        return self.embedded and self.settings.auto_migrate

    @property
    def pooler(self) -> Pooler:
        """What sits in front of the server (`codex_db.config.Pooler`)."""
        return self.settings.pooler

    @property
    def method(self) -> DBMethod:
        """The connection method (`codex_db.config.DBMethod`)."""
        return self.settings.method

    @property
    def conninfo(self) -> str:
        """The real URL to connect with; never log it (use `display`)."""
        if self.url is None:
            raise RuntimeError("the embedded server is not started yet: call _target.start()")
        return self.url.reveal()

    @property
    def direct(self) -> str:
        """`conninfo` with a pooled host replaced by the direct one (migrations, locks)."""
        return direct_url(self.conninfo)

    @property
    def display(self) -> str:
        """The URL with its secrets masked, for messages."""
        return self.url.shown if self.url is not None else self.settings.display_url


def resolve(url: str | None = None, *, environ: Mapping[str, str] | None = None) -> Target:
    """The target of *url*, else of the environment (or *environ*); no I/O.

    Raises:
        ConfigError: naming the variable to set or fix.
    """
    env = os.environ if environ is None else environ
    facts = read_env(env)
    if url:
        settings = Settings.from_url(
            url, environment=facts.environment, pooler=facts.pooler, source="--url"
        )
        # The URL is explicit, but the environment still says whether this is production.
        return Target(settings, "--url", facts.production, settings.url)
    settings = Settings.from_env(env)
    return Target(settings, _source(settings), settings.is_production, settings.url)


def of(settings: Settings) -> Target:
    """The target of *settings* built in code (`Settings.from_url()`, `Settings.embedded()`)."""
    source = "url" if settings.method is DBMethod.URL else _source(settings)
    return Target(settings, source, settings.is_production, settings.url)


def start(target: Target, *, migrate: bool | None = None) -> Target:
    """*target* with its URL known: the embedded server is started (and joined) if need be.

    It is migrated when *migrate* is true (default: `Target.auto_migrate`, unless
    `migrations_held()`). It blocks: async callers run it in a thread.
    """
    if target.url is not None:
        return target
    from codex_db.server import start_embedded

    server = start_embedded(target.settings.data_dir)
    started = msgspec.structs.replace(target, url=Secret.of(server.url), data_dir=server.data_dir)
    if _auto_migrates(started) if migrate is None else migrate:
        _migrate(server.url)
    return started


def hold_migrations(target: Target, why: str) -> bool:
    """Stop the runtime migrating *target*, the embedded database; whether it was held.

    Call it after rolling migrations back by hand (``codex-db rollback``), so
    the next runtime call does not apply them again. *why* is written in the
    file that holds it. Any other database is never auto-migrated: nothing to do.
    """
    if not target.embedded or target.data_dir is None:
        return False
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    (target.data_dir / HOLD_FILE).write_text(
        f"{why} ({stamp}).\nThe clients and the studio apply no migration to this embedded"
        " database while this file exists: `codex-db migrate` (or `codex-db reset`) brings"
        " it up to date and deletes it.\n"
    )
    return True


def release_migrations(target: Target) -> bool:
    """Let the runtime migrate *target* again; whether it was held.

    Call it once the embedded database is up to date (``codex-db migrate``, ``reset``).
    """
    if target.data_dir is None:
        return False
    try:
        (target.data_dir / HOLD_FILE).unlink()
    except FileNotFoundError:
        return False
    return True


def migrations_held(target: Target) -> str | None:
    """Why the runtime does not migrate *target* (`hold_migrations()`), or ``None``."""
    if target.data_dir is None:
        return None
    try:
        return (target.data_dir / HOLD_FILE).read_text().strip()
    except FileNotFoundError:
        return None


def connect_url(settings: Settings) -> str:
    """The URL a pool of *settings* connects to (starting and migrating the embedded server)."""
    return start(of(settings)).conninfo


def _auto_migrates(target: Target) -> bool:
    """`Target.auto_migrate`, unless held; a hold is logged once per process."""
    held = migrations_held(target)
    if held is None or target.data_dir is None:
        return target.auto_migrate
    if target.auto_migrate and target.data_dir not in _held_logged:
        _held_logged.add(target.data_dir)
        _logger.info(
            "not migrating the embedded database: %s (%s); `codex-db migrate` brings it up to"
            " date and lets the runtime migrate it again",
            held.splitlines()[0],
            target.data_dir / HOLD_FILE,
        )
    return False


def _migrate(url: str) -> None:
    # The one place the runtime reaches into the migration tooling: the embedded
    # default is a development database the package keeps at the current schema.
    from codex_db import migrate

    applied = migrate.apply(url)
    if applied:
        _logger.info("applied %d migration(s) to the embedded database: %s", len(applied), applied)


def _source(settings: Settings) -> str:
    if settings.url is None:
        return "embedded"
    if settings.method is DBMethod.LOCAL_PROXY:
        return "DATABASE_URL_LOCAL_PROXY"
    return "DATABASE_URL"
