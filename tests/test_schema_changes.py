"""The ten common schema changes, each in one cycle on a database that holds rows.

Each test edits ``sql/`` (and ``queries/`` where the change needs it) in a copy
of this project, then runs the real commands against a migrated database
filled with sample rows: ``gen`` → ``check`` → ``migrate`` → ``status`` →
``rollback`` → ``migrate`` → ``status``, asserting that no step fails and
that the data survives. CI runs the suite on PostgreSQL 15 and 18, so every
verdict is checked on both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from codex_db import cli
from codex_db.workflow import catalog, sample
from tests._project import ALL, next_id, run, snapshot

pytestmark = [pytest.mark.usefixtures("clean_env"), pytest.mark.slow]


@pytest.fixture
def db(migrated_database: Callable[[], str]) -> str:
    """A migrated database holding sample rows in every table."""
    url = migrated_database()
    filled = sample.fill(url, catalog.IGNORED_TABLES)
    assert not filled.skipped, filled.describe()
    return url


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace *old* by *new* in *path* (it must be there)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count if count else -1))


def sql_of(text: str) -> str:
    """A migration's statements without its comments (the review header, squawk ignores)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def rows(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query.encode(), params or None).fetchall()


class Cycle:
    """The commands of one schema change, each asserted to succeed."""

    def __init__(self, project: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.project, self.url, self.capsys = project, url, capsys
        self.before = snapshot(url)

    def command(self, *argv: str, code: int = 0) -> str:
        got = run(self.project, *argv)
        out = self.capsys.readouterr()
        text = out.out + out.err
        assert got == code, f"codex-db {' '.join(argv)} exited {got}:\n{text}"
        return text

    def gen(self, *flags: str, name: str = "change") -> str:
        return self.command("gen", "--url", self.url, "--name", name, "--yes", *flags)

    def migrations(self) -> list[str]:
        """The files of the migrations the test added."""
        return sorted(
            p.name
            for p in (self.project / "migrations").glob("*.sql")
            if p.name.split(".")[0] not in {i.split(".")[0] for i in ALL}
        )

    def apply_and_roll_back(self, count: int, *, between: Callable[[], None] | None = None) -> None:
        """check, migrate, status clean, [between], rollback, migrate again, status clean."""
        check = self.command("check", "--url", self.url)
        assert "all checks passed" in check
        self.command("migrate", "--url", self.url)
        self.command("status", "--url", self.url)
        if between:
            between()
        self.command("rollback", "--url", self.url, "--last", str(count), "--yes")
        assert catalog.compare(self.before, snapshot(self.url)) == []
        self.command("status", "--url", self.url, code=cli.PENDING)
        self.command("migrate", "--url", self.url)
        self.command("status", "--url", self.url)


@pytest.fixture
def cycle(codegen_project: Path, db: str, capsys: pytest.CaptureFixture[str]) -> Cycle:
    return Cycle(codegen_project, db, capsys)


def test_1_nullable_column_declared_mid_table(cycle: Cycle) -> None:
    """A column declared where it belongs (not last): drift compares by name; order is a note."""
    sql = cycle.project / "sql" / "content.sql"
    edit(
        sql,
        "    title text NOT NULL,\n    slug text NOT NULL,",
        "    title text NOT NULL,\n    subtitle text,\n    slug text NOT NULL,",
    )
    (cycle.project / "queries" / "subtitles.sql").write_text(
        "-- name: ListContentBySubtitle :many\n"
        "SELECT id, title, subtitle FROM content WHERE subtitle = @subtitle;\n"
    )
    out = cycle.gen(name="add subtitle")
    assert cycle.migrations() == [
        f"{next_id()}.add_subtitle.rollback.sql",
        f"{next_id()}.add_subtitle.sql",
    ]
    assert 'add column "subtitle" text' in out and "column order of public.content differs" in out
    generated = (cycle.project / "codex_db" / "generated" / "subtitles.py").read_text()
    assert "def list_content_by_subtitle(" in generated
    cycle.apply_and_roll_back(1)
    assert rows(cycle.url, "SELECT count(*) FROM content WHERE subtitle IS NULL") == [(3,)]


def test_2_not_null_columns_with_constant_and_volatile_defaults(cycle: Cycle) -> None:
    """NOT NULL DEFAULT columns: one migration; the volatile default's rewrite is measured."""
    edit(
        cycle.project / "sql" / "content.sql",
        "    purchase_count integer NOT NULL DEFAULT 0,",
        "    purchase_count integer NOT NULL DEFAULT 0,\n"
        "    word_count integer NOT NULL DEFAULT 0,\n"
        "    public_id uuid NOT NULL DEFAULT gen_random_uuid(),",
    )
    out = cycle.gen(name="counts")
    assert re.search(r"measured: REWRITES .*content.*public_id", out), out
    assert re.search(r"measured: does not rewrite .*content.*word_count", out), out
    assert (
        "adding-field-with-default -- measured by codex-db gen on a scratch copy: rewrites content"
        in out
    )
    cycle.apply_and_roll_back(1)
    assert rows(cycle.url, "SELECT count(DISTINCT public_id), min(word_count) FROM content") == [
        (3, 0)
    ]


def test_3_not_null_column_without_default_needs_a_backfill(cycle: Cycle) -> None:
    """gen refuses, naming both fixes and writing nothing; --backfill writes the safe sequence."""
    edit(
        cycle.project / "sql" / "content.sql",
        "    description text,\n    content_type",
        "    description text,\n    summary text NOT NULL,\n    content_type",
    )
    generated = cycle.project / "codex_db" / "generated" / "models.py"
    code_before = generated.read_text()
    out = cycle.command("gen", "--url", cycle.url, "--name", "summary", "--yes", code=1)
    assert "declare a default in sql/" in out and "--backfill content.summary=" in out
    assert cycle.migrations() == [] and generated.read_text() == code_before
    out = cycle.gen("--backfill", "content.summary=coalesce(description, title)", name="summary")
    assert cycle.migrations() == [
        f"{next_id()}.summary.rollback.sql",
        f"{next_id()}.summary.sql",
        f"{next_id(2)}.summary_validate.rollback.sql",
        f"{next_id(2)}.summary_validate.sql",
    ]
    main = (cycle.project / "migrations" / f"{next_id()}.summary.sql").read_text()
    assert 'UPDATE "public"."content" SET "summary" = (coalesce(description, title))' in main
    assert "NOT VALID" in main and "SET NOT NULL" not in main
    check = (cycle.project / "migrations" / f"{next_id(2)}.summary_validate.sql").read_text()
    assert "VALIDATE CONSTRAINT" in check and "SET NOT NULL" in check

    def filled() -> None:
        assert rows(cycle.url, "SELECT count(*) FROM content WHERE summary = title") == [(3,)]
        assert rows(
            cycle.url,
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'content'::regclass"
            " AND attname = 'summary'",
        ) == [(True,)]

    cycle.apply_and_roll_back(2, between=filled)


def _rename_view_count(project: Path) -> None:
    edit(project / "sql" / "content.sql", "    view_count integer", "    views_total integer")
    queries = project / "queries" / "content.sql"
    queries.write_text(queries.read_text().replace("view_count", "views_total"))


def test_4_rename_a_column(cycle: Cycle) -> None:
    """Without --rename gen refuses (never a data-losing drop + add); with it, RENAME COLUMN."""
    _rename_view_count(cycle.project)
    with psycopg.connect(cycle.url) as conn:
        conn.execute("UPDATE content SET view_count = 41 + (SELECT count(*) FROM users)")
    cycle.before = snapshot(cycle.url)
    out = cycle.command("gen", "--url", cycle.url, "--yes", code=1)
    assert "--rename content.view_count=views_total" in out or "--rename TABLE.OLD=NEW" in out
    assert "--allow-data-loss" in out and cycle.migrations() == []
    out = cycle.gen("--rename", "content.view_count=views_total", name="views total")
    text = (cycle.project / "migrations" / f"{next_id()}.views_total.sql").read_text()
    assert 'ALTER TABLE "public"."content" RENAME COLUMN "view_count" TO "views_total"' in text
    assert "drop column" not in text.lower()
    assert "renaming-column -- declared rename (--rename content.view_count -> views_total)" in text
    rollback = (cycle.project / "migrations" / f"{next_id()}.views_total.rollback.sql").read_text()
    assert 'RENAME COLUMN "views_total" TO "view_count"' in rollback

    def kept() -> None:
        assert rows(cycle.url, "SELECT DISTINCT views_total FROM content") == [(44,)]

    cycle.apply_and_roll_back(1, between=kept)
    assert rows(cycle.url, "SELECT DISTINCT views_total FROM content") == [(44,)]


def test_4b_rename_asked_on_a_terminal(cycle: Cycle, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal gen asks, as Drizzle Kit does, and a yes writes the rename."""
    _rename_view_count(cycle.project)
    asked: list[str] = []

    def answer(question: str) -> str:
        asked.append(question)
        return "y"

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", answer)
    cycle.command("gen", "--url", cycle.url, "--name", "views")
    assert asked == ["is content.views_total renamed from view_count? [y/N] "]
    text = (cycle.project / "migrations" / f"{next_id()}.views.sql").read_text()
    assert "RENAME COLUMN" in text


class _Terminal:
    def isatty(self) -> bool:
        return True


def test_5_rename_a_table(cycle: Cycle) -> None:
    """--rename-table: RENAME TO, and its constraints, indexes and triggers follow their names."""
    for name in (
        "sql/content.sql",
        "sql/triggers.sql",
        "queries/organizations.sql",
        "queries/content.sql",
    ):
        path = cycle.project / name
        path.write_text(path.read_text().replace("organizations", "orgs"))
    count = rows(cycle.url, "SELECT count(*) FROM organizations")
    out = cycle.gen("--rename-table", "organizations=orgs", name="orgs")
    text = (cycle.project / "migrations" / f"{next_id()}.orgs.sql").read_text()
    assert 'ALTER TABLE "public"."organizations" RENAME TO "orgs"' in text
    for renamed in (
        'RENAME CONSTRAINT "organizations_pkey" TO "orgs_pkey"',
        'RENAME CONSTRAINT "content_organization_id_organizations_id_fk"'
        ' TO "content_organization_id_orgs_id_fk"',
        'ALTER INDEX "public"."idx_organizations_name" RENAME TO "idx_orgs_name"',
        'ALTER TRIGGER "trigger_set_organizations_updated_at"',
    ):
        assert renamed in text, out
    assert "drop table" not in text.lower() and "create table" not in text.lower()

    def kept() -> None:
        assert rows(cycle.url, "SELECT count(*) FROM orgs") == count

    cycle.apply_and_roll_back(1, between=kept)


def test_6_add_an_index(cycle: Cycle) -> None:
    """An index on an existing table: its own non-transactional CONCURRENTLY migration."""
    edit(
        cycle.project / "sql" / "content.sql",
        "CREATE INDEX idx_content_category ON content (category);",
        "CREATE INDEX idx_content_category ON content (category);\n"
        "CREATE INDEX idx_content_price ON content (price_cents);",
    )
    cycle.gen(name="price index")
    name = f"{next_id()}.price_index_indexes"
    assert cycle.migrations() == [f"{name}.rollback.sql", f"{name}.sql"]
    text = (cycle.project / "migrations" / f"{name}.sql").read_text()
    assert "-- transactional: false" in text and "SET LOCAL" not in text
    assert "SET lock_timeout = '5s';" in text
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_content_price" in text
    rollback = (cycle.project / "migrations" / f"{name}.rollback.sql").read_text()
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.idx_content_price" in rollback
    cycle.apply_and_roll_back(1)


def test_7_foreign_key_and_check_on_an_existing_table(cycle: Cycle) -> None:
    """NOT VALID in the change, VALIDATE CONSTRAINT in a migration of its own."""
    edit(
        cycle.project / "sql" / "content.sql",
        "    CONSTRAINT check_price_non_negative CHECK (price_cents >= 0),",
        "    CONSTRAINT check_price_non_negative CHECK (price_cents >= 0),\n"
        "    CONSTRAINT check_view_count_non_negative CHECK (view_count >= 0),\n"
        "    CONSTRAINT content_reviewer_id_users_id_fk FOREIGN KEY (reviewer_id)\n"
        "        REFERENCES users (id) ON DELETE SET NULL,",
    )
    edit(
        cycle.project / "sql" / "content.sql",
        "    deleted_at timestamptz,\n    CONSTRAINT content_pkey",
        "    deleted_at timestamptz,\n    reviewer_id text,\n    CONSTRAINT content_pkey",
    )
    cycle.gen(name="review")
    main = (cycle.project / "migrations" / f"{next_id()}.review.sql").read_text()
    validate = (cycle.project / "migrations" / f"{next_id(2)}.review_validate.sql").read_text()
    assert sql_of(main).upper().count("NOT VALID") == 2 and "VALIDATE" not in sql_of(main).upper()
    assert sql_of(validate).upper().count("VALIDATE CONSTRAINT") == 2
    cycle.apply_and_roll_back(2)


def test_8_new_table_with_foreign_keys(cycle: Cycle) -> None:
    """A new table referencing existing ones: one migration, constraints valid at once."""
    sql = cycle.project / "sql" / "content.sql"
    sql.write_text(
        sql.read_text()
        + """
CREATE TABLE content_reviews (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    content_id uuid NOT NULL,
    reviewer_id text NOT NULL,
    rating integer NOT NULL,
    body text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_reviews_pkey PRIMARY KEY (id),
    CONSTRAINT content_reviews_content_reviewer_unique UNIQUE (content_id, reviewer_id),
    CONSTRAINT check_content_reviews_rating CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT content_reviews_content_id_content_id_fk FOREIGN KEY (content_id)
        REFERENCES content (id) ON DELETE CASCADE,
    CONSTRAINT content_reviews_reviewer_id_users_id_fk FOREIGN KEY (reviewer_id)
        REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX idx_content_reviews_reviewer_id ON content_reviews (reviewer_id);
"""
    )
    cycle.gen(name="reviews")
    assert len(cycle.migrations()) == 2
    text = (cycle.project / "migrations" / f"{next_id()}.reviews.sql").read_text()
    assert "NOT VALID" not in text and "VALIDATE" not in text

    def insert() -> None:
        with psycopg.connect(cycle.url) as conn:
            conn.execute(
                "INSERT INTO content_reviews (content_id, reviewer_id, rating)"
                " SELECT c.id, c.creator_id, 5 FROM content c"
            )
        assert rows(cycle.url, "SELECT count(*) FROM content_reviews") == [(3,)]

    cycle.apply_and_roll_back(1, between=insert)


def test_9_drop_a_column_and_a_table(cycle: Cycle) -> None:
    """Drops need --allow-data-loss; a dropped table is one statement."""
    edit(cycle.project / "sql" / "content.sql", "    thumbnail_key text,\n", "")
    edit(
        cycle.project / "queries" / "media_items.sql",
        "    thumbnail_key = sqlc.narg(thumbnail_key),\n",
        "",
    )
    auth = cycle.project / "sql" / "auth.sql"
    auth.write_text(
        re.sub(r"CREATE TABLE verification_tokens \(.*?\);\n", "", auth.read_text(), flags=re.S)
    )
    auth.write_text(
        re.sub(
            r"CREATE INDEX idx_verification_tokens\w* ON verification_tokens[^;]*;\n",
            "",
            auth.read_text(),
        )
    )
    triggers = cycle.project / "sql" / "triggers.sql"
    triggers.write_text(
        re.sub(
            r"CREATE TRIGGER trigger_set_verification_tokens_updated_at[^;]*;\n",
            "",
            triggers.read_text(),
        )
    )
    (cycle.project / "queries" / "verification_tokens.sql").unlink()
    out = cycle.command("gen", "--url", cycle.url, "--yes", code=1)
    assert "--allow-data-loss" in out and cycle.migrations() == []
    out = cycle.gen("--allow-data-loss", name="drop tokens")
    text = (cycle.project / "migrations" / f"{next_id()}.drop_tokens.sql").read_text()
    assert sql_of(text).lower().count("verification_tokens") == 1, text  # one DROP TABLE
    assert 'drop table "public"."verification_tokens"' in text
    assert "squawk-ignore ban-drop-table -- data loss accepted" in text
    assert "squawk-ignore ban-drop-column -- data loss accepted" in text
    assert not (cycle.project / "codex_db" / "generated" / "verification_tokens.py").exists()
    cycle.apply_and_roll_back(1)


def test_10_change_column_types(cycle: Cycle) -> None:
    """integer -> bigint and text -> varchar(n): flagged with whether each rewrites the table."""
    sql = cycle.project / "sql" / "content.sql"
    edit(
        sql,
        "    view_count integer NOT NULL DEFAULT 0,",
        "    view_count bigint NOT NULL DEFAULT 0,",
    )
    edit(
        sql,
        "    name text NOT NULL,\n    slug text NOT NULL,\n    description text,",
        "    name text NOT NULL,\n    slug text NOT NULL,\n    description varchar(500),",
    )
    out = cycle.gen(name="types")
    assert re.search(r"measured: REWRITES .*content.*view_count", out), out
    assert re.search(r"measured: REWRITES .*organizations.*description", out), out
    text = (cycle.project / "migrations" / f"{next_id()}.types.sql").read_text()
    assert (
        "changing-column-type -- measured by codex-db gen on a scratch copy: rewrites content"
        in text
    )
    cycle.apply_and_roll_back(1)
