"""The codex-db command line, run in-process with ``main([...])`` against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db import cli, migrate
from codex_db.cli import main
from codex_db.workflow import catalog
from tests._project import ALL, LAST, next_id, run, snapshot

COMMANDS = [name for name, *_ in cli._COMMANDS] + ["ping"]
BAD_URL = "postgresql://someone:hunter2@127.0.0.1:1/nowhere"
NEXT = next_id()

pytestmark = pytest.mark.usefixtures("clean_env")


def tiny_project(tmp_path: Path, migrations: dict[str, str]) -> Path:
    """A project with its own small migrations (and an empty sql/)."""
    root = tmp_path / "tiny"
    for folder in ("sql", "migrations", "queries"):
        (root / folder).mkdir(parents=True)
    for name, text in migrations.items():
        (root / "migrations" / f"{name}.sql").write_text(text)
    return root


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``codex-db COMMAND --help`` exits 0 and shows an example."""
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "codex-db" in out


def test_status_exit_code_says_whether_anything_is_pending(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status exits 3 while migrations are pending and 0 once all are applied."""
    url = fresh_database()
    assert run(project, "status", "--url", url) == cli.PENDING
    assert f"0 applied, {len(ALL)} pending" in capsys.readouterr().out
    assert run(project, "migrate", "--url", url) == 0
    out = capsys.readouterr().out
    assert all(f"applied {mid}" in out for mid in ALL) and f"{len(ALL)} migration(s) applied" in out
    assert run(project, "status", "--url", url) == 0
    out = capsys.readouterr().out
    assert f"{len(ALL)} applied, 0 pending" in out and " UTC" in out


def test_migrate_twice_is_a_no_op(fresh_database: Callable[..., str], project: Path) -> None:
    """A second migrate applies nothing and succeeds."""
    url = fresh_database()
    assert run(project, "migrate", "--url", url) == 0
    assert run(project, "migrate", "--url", url) == 0
    assert migrate.pending(url, source=project / "migrations") == []


def test_dry_run_applies_nothing(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run runs every pending migration in a transaction and rolls it back."""
    url = fresh_database()
    before = snapshot(url)
    assert run(project, "migrate", "--url", url, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "ok (rolled back) 0001.auth" in out and "dry run: nothing was applied" in out
    assert catalog.compare(before, snapshot(url)) == []
    assert migrate.pending(url, source=project / "migrations") == ALL


def test_dry_run_reports_a_failing_migration(
    fresh_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken pending migration fails the dry run, naming it; nothing is applied."""
    root = tiny_project(
        tmp_path,
        {
            "0001.table": "CREATE TABLE t (id int);",
            "0002.broken": "-- depends: 0001.table\nALTER TABLE nope ADD COLUMN x int;\n",
        },
    )
    url = fresh_database()
    assert run(root, "migrate", "--url", url, "--dry-run") == 1
    assert "0002.broken failed" in capsys.readouterr().err
    assert migrate.pending(url, source=root / "migrations") == ["0001.table", "0002.broken"]


def test_dry_run_stops_at_a_non_transactional_migration(
    fresh_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``-- transactional: false`` migration cannot be dry-run; it is listed as not checked."""
    root = tiny_project(
        tmp_path,
        {
            "0001.table": "CREATE TABLE t (id int);",
            "0002.idx": "-- transactional: false\n-- depends: 0001.table\n"
            "CREATE INDEX CONCURRENTLY idx_t_id ON t (id);\n",
        },
    )
    url = fresh_database()
    assert run(root, "migrate", "--url", url, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "ok (rolled back) 0001.table" in out and "not checked: 0002.idx" in out


def test_unreachable_database_is_one_line_without_password(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An expected error prints one redacted line, no traceback; --verbose adds it."""
    assert run(project, "status", "--url", BAD_URL) == 1
    err = capsys.readouterr().err
    assert err.startswith("codex-db: error:") and "Traceback" not in err
    assert "hunter2" not in err and "someone:***@" in err
    assert main(["--verbose", "--project", str(project), "migrate", "--url", BAD_URL]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "hunter2" not in err
    assert main(["--project", str(project), "status", "--url", BAD_URL, "--verbose"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_rollback_needs_confirmation(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a terminal and without --yes, rollback changes nothing and says to pass --yes."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    assert run(project, "rollback", "--url", url) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert migrate.pending(url, source=project / "migrations") == []


class _Terminal:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code"), [("y", 0), ("n", 1), ("", 1)])
def test_rollback_asks_on_a_terminal(
    fresh_database: Callable[..., str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
) -> None:
    """On a terminal, rollback proceeds only on "y"; the default is no."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: answer)
    assert run(project, "rollback", "--url", url) == code
    assert migrate.pending(url, source=project / "migrations") == ([LAST] if code == 0 else [])


def test_rollback_last_and_to(fresh_database: Callable[..., str], project: Path) -> None:
    """--last N rolls back N; --to ID rolls back everything after ID."""
    url = fresh_database()
    source = project / "migrations"
    run(project, "migrate", "--url", url)
    assert run(project, "rollback", "--url", url, "--yes", "--last", "1") == 0
    assert migrate.pending(url, source=source) == [LAST]
    run(project, "migrate", "--url", url)
    assert run(project, "rollback", "--url", url, "--yes", "--to", "0001.auth") == 0
    assert migrate.pending(url, source=source) == ALL[1:]


def test_rollback_to_unknown_id_is_an_error(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--to a migration that is not applied names the applied ones."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    assert run(project, "rollback", "--url", url, "--yes", "--to", "9999.nope") == 1
    assert "not an applied migration" in capsys.readouterr().err


def test_destructive_commands_refuse_production(
    fresh_database: Callable[..., str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """rollback and push refuse NODE_ENV=production; rollback --force-production proceeds."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    monkeypatch.setenv("NODE_ENV", "production")
    assert run(project, "rollback", "--url", url, "--yes") == 1
    assert "refused on production" in capsys.readouterr().err
    assert run(project, "push", "--url", url, "--yes") == 1
    assert "refuses production" in capsys.readouterr().err
    assert run(project, "gen", "--url", url) == 1
    assert "CODEX_DB_SCRATCH_URL" in capsys.readouterr().err
    assert run(project, "rollback", "--url", url, "--yes", "--force-production") == 0


def test_push_makes_a_dev_database_match_sql(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """push shows the SQL, applies it after --yes, and a second push has nothing to do."""
    url = fresh_database()
    assert run(project, "push", "--url", url) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert run(project, "push", "--url", url, "--yes") == 0
    assert "create table" in capsys.readouterr().out.lower()
    assert run(project, "push", "--url", url, "--yes") == 0
    assert "already matches sql/" in capsys.readouterr().out


def test_mark_baselines_a_matching_database(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """mark refuses a database that differs from sql/ and marks one that matches."""
    url = fresh_database()
    assert run(project, "mark", "--url", url) == 1
    assert "does not match sql/" in capsys.readouterr().err
    with psycopg.connect(url) as conn:
        catalog.apply_sql_dir(conn, project / "sql")
    assert run(project, "mark", "--url", url) == 0
    assert f"{len(ALL)} migration(s) marked" in capsys.readouterr().out
    assert run(project, "status", "--url", url) == 0


def test_gen_check_and_check_fail_on_drift(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A change to sql/ without a migration fails gen --check and check, naming the statement."""
    url = fresh_database()
    with (project / "sql" / "auth.sql").open("a") as f:
        f.write("\nCREATE INDEX idx_users_name ON users (name);\n")
    assert run(project, "gen", "--check", "--url", url) == 1
    err = capsys.readouterr().err
    assert "idx_users_name" in err and "codex-db gen" in err
    assert not list((project / "migrations").glob(f"{NEXT}*"))
    assert run(project, "check", "--url", url, "--skip", "vet") == 1
    out = capsys.readouterr().out
    assert "failed   drift" in out


def test_gen_without_changes_writes_nothing(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """gen on an unchanged sql/ says so and writes no file."""
    assert run(project, "gen", "--url", fresh_database()) == 0
    assert "no migration needed" in capsys.readouterr().out
    assert len(list((project / "migrations").glob("*.sql"))) == 2 * len(ALL)


def test_gen_auth_passes_on_the_project(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's auth tables carry everything better-auth needs."""
    assert run(project, "gen:auth", "--url", fresh_database()) == 0
    assert "auth tables ok" in capsys.readouterr().out


def test_lint_reports_file_and_one_based_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A risky new migration is reported as file:line (1-based) with the rule."""
    (project / "migrations" / f"{NEXT}.risky.sql").write_text(
        f"-- depends: {LAST}\nSET LOCAL lock_timeout = '5s';\n"
        "ALTER TABLE users ADD COLUMN nick text NOT NULL;\n"
    )
    assert run(project, "lint") == 1
    out = capsys.readouterr().out
    assert f"migrations/{NEXT}.risky.sql:3:19: adding-required-field" in out


def test_lint_requires_a_reason_on_every_ignore(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-- squawk-ignore rule`` without `` -- reason`` is an error; with one it passes."""
    path = project / "migrations" / f"{NEXT}.idx.sql"
    body = "SET LOCAL lock_timeout = '5s';\n{ignore}\nCREATE INDEX idx_n ON users (name);\n"
    path.write_text(body.format(ignore="-- squawk-ignore require-concurrent-index-creation"))
    assert run(project, "lint") == 1
    assert f"{NEXT}.idx.sql:2:1: ignore-reason" in capsys.readouterr().out
    reason = "-- squawk-ignore require-concurrent-index-creation -- users is tiny"
    path.write_text(body.format(ignore=reason))
    assert run(project, "lint") == 0


def test_lint_all_ignores_the_baseline(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without new migrations lint has nothing to do; --all lints the old ones too."""
    assert run(project, "lint") == 0
    assert "nothing to lint" in capsys.readouterr().out
    assert run(project, "lint", "--all") == 1
    assert "0001.auth.sql:" in capsys.readouterr().out


def test_doctor_reports_the_connection(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """doctor prints the redacted URL, server version, TLS, pooler and migrations."""
    url = fresh_database()
    assert run(project, "doctor", "--url", url) == 0
    out = capsys.readouterr().out
    for label in (
        "url:",
        "server:      PostgreSQL",
        "tls:",
        "pooler:      none",
        f"{len(ALL)} pending",
    ):
        assert label in out
    assert run(project, "ping", "--url", BAD_URL) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "hunter2" not in out


def test_stale_lock_is_reported_and_broken(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lock row of a gone process: status shows it, migrate refuses, --break-lock clears it."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO yoyo_lock (locked, ctime, pid)"
            " VALUES (1, now() AT TIME ZONE 'utc', 999999)"
        )
    (project / "migrations" / f"{NEXT}.noop.sql").write_text(f"-- depends: {LAST}\nSELECT 1;\n")
    capsys.readouterr()
    assert run(project, "status", "--url", url) == cli.PENDING
    out = capsys.readouterr().out
    assert "pid 999999" in out and "stale" in out and "--break-lock" in out
    assert run(project, "migrate", "--url", url) == 1
    assert "codex-db migrate --break-lock" in capsys.readouterr().err
    assert run(project, "migrate", "--url", url, "--break-lock") == 1
    assert "pass --yes" in capsys.readouterr().err
    assert run(project, "migrate", "--url", url, "--break-lock", "--yes") == 0
    out = capsys.readouterr().out
    assert "broke the lock of pid 999999" in out and f"applied {NEXT}.noop" in out
    assert migrate.lock_status(url) is None


def test_edited_applied_migration_fails_check(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editing a migration after it was applied is reported by status and check, naming the file."""
    url = fresh_database()
    run(project, "migrate", "--url", url)
    path = project / "migrations" / "0002.content.sql"
    path.write_text(path.read_text() + "\n-- an innocent-looking edit\n")
    assert run(project, "status", "--url", url) == 1
    assert "EDITED" in capsys.readouterr().out
    assert run(project, "check", "--url", url, "--skip", "vet", "--skip", "drift") == 1
    out = capsys.readouterr().out
    assert "failed   applied" in out and "0002.content.sql: edited after it was applied" in out
    (project / "migrations" / f"{LAST}.sql").unlink()
    assert run(project, "check", "--url", url, "--skip", "vet", "--skip", "drift") == 1
    assert f"{LAST}: applied to" in capsys.readouterr().out


def test_studio_subcommand_is_wired(capsys: pytest.CaptureFixture[str]) -> None:
    """`codex-db studio --help` reaches the studio's own options."""
    with pytest.raises(SystemExit) as info:
        main(["studio", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--write" in out
    assert "--no-browser" in out


def test_gen_shows_plugin_warnings_and_strict_fails_on_them(
    fresh_database: Callable[..., str], codegen_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sqlc hides a plugin's warnings; gen prints them, and --strict-warnings writes nothing."""
    config = codegen_project / "sqlc.yaml"
    config.write_text(config.read_text().replace("strict_types: true", "strict_types: false"))
    (codegen_project / "queries" / "probe.sql").write_text(
        "-- name: Probe :one\nSELECT ROW(1, 2) AS pair;\n"
    )
    warning = "warning: probe.sql: Probe: column pair: unknown type 'any' is typed Any"
    url = fresh_database()
    assert run(codegen_project, "gen", "--strict-warnings", "--url", url) == 1
    err = capsys.readouterr().err
    assert warning in err and "--strict-warnings: nothing was written" in err
    assert not (codegen_project / "codex_db" / "generated" / "probe.py").exists()
    assert run(codegen_project, "gen", "--check", "--strict-warnings", "--url", url) == 1
    assert warning in capsys.readouterr().out
    assert run(codegen_project, "gen", "--url", url) == 0
    assert warning in capsys.readouterr().err
    assert (codegen_project / "codex_db" / "generated" / "probe.py").exists()
