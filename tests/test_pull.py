"""codex-db pull: the sql/ it writes builds the same catalog as the database it read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from codex_db.workflow import catalog
from codex_db.workflow.schemadiff import build_from_sql
from tests._project import run, snapshot

pytestmark = pytest.mark.usefixtures("clean_env")

#: Written by hand for this test (not from sql/): one of most things pull must write.
FIXTURE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA reporting;
CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s complicated');
CREATE DOMAIN positive_int AS integer DEFAULT 1 NOT NULL CONSTRAINT positive CHECK (VALUE > 0);
CREATE TYPE money_pair AS (amount numeric(12, 2), currency char(3));
CREATE SEQUENCE ticket_numbers AS bigint START WITH 1000 INCREMENT BY 10;

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';

CREATE TABLE "Authors" (
    id bigint GENERATED ALWAYS AS IDENTITY,
    "Full Name" text NOT NULL COLLATE "C",
    feeling mood NOT NULL DEFAULT 'happy',
    score positive_int,
    favourite_book_id integer,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT authors_pkey PRIMARY KEY (id)
);

CREATE TABLE books (
    id serial,
    author_id bigint NOT NULL,
    title varchar(200) NOT NULL,
    pages integer CHECK (pages > 0),
    double_pages integer GENERATED ALWAYS AS (double_it(pages)) STORED,
    price money_pair,
    tags text[] NOT NULL DEFAULT '{}',
    ticket bigint NOT NULL DEFAULT nextval('ticket_numbers'),
    during tstzrange,
    CONSTRAINT books_pkey PRIMARY KEY (id),
    CONSTRAINT books_title_per_author UNIQUE (author_id, title) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT books_author_fk FOREIGN KEY (author_id) REFERENCES "Authors" (id) ON DELETE CASCADE,
    CONSTRAINT books_no_overlap EXCLUDE USING gist (during WITH &&)
);

-- A cycle: authors -> books -> authors.
ALTER TABLE "Authors" ADD CONSTRAINT authors_favourite_fk
    FOREIGN KEY (favourite_book_id) REFERENCES books (id) ON DELETE SET NULL;

CREATE UNLOGGED TABLE reporting.daily (
    day date NOT NULL,
    books integer NOT NULL DEFAULT 0,
    CONSTRAINT daily_pkey PRIMARY KEY (day)
);

CREATE INDEX books_title_trgm ON books USING gin (title gin_trgm_ops);
CREATE INDEX books_lower_title ON books (lower(title)) WHERE pages IS NOT NULL;
CREATE INDEX authors_name_desc ON "Authors" ("Full Name" DESC NULLS LAST);

CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 300;
CREATE VIEW long_book_titles AS SELECT title FROM long_books;
CREATE MATERIALIZED VIEW books_per_author AS
    SELECT author_id, count(*) AS n FROM books GROUP BY author_id;
CREATE UNIQUE INDEX books_per_author_key ON books_per_author (author_id);

CREATE TRIGGER authors_touch BEFORE UPDATE ON "Authors"
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch();
"""


def _empty_project(root: Path) -> Path:
    for name in ("sql", "migrations"):
        (root / name).mkdir(parents=True)
    return root


def test_pull_writes_sql_that_builds_the_same_catalog(
    fresh_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schema written by hand, pulled into an empty project, rebuilt: identical catalogs."""
    original = fresh_database(FIXTURE)
    project = _empty_project(tmp_path / "adopted")
    assert run(project, "pull", "--url", original) == 0
    out = capsys.readouterr().out
    assert "wrote sql/20_tables.sql" in out and "codex-db mark" in out
    tables = (project / "sql" / "20_tables.sql").read_text()
    assert 'CREATE TABLE "Authors" (' in tables and "CONSTRAINT books_author_fk" in tables
    assert 'ALTER TABLE "Authors" ADD CONSTRAINT authors_favourite_fk' in tables
    assert "CREATE INDEX books_lower_title ON books (lower(" in tables
    rebuilt = fresh_database()
    build_from_sql(rebuilt, project / "sql")
    assert (
        catalog.compare(snapshot(original), snapshot(rebuilt), labels=("pulled", "rebuilt")) == []
    )
    with psycopg.connect(rebuilt) as conn:
        conn.execute('INSERT INTO "Authors" ("Full Name") VALUES (\'Ann\')')
        assert conn.execute('SELECT feeling, score FROM "Authors"').fetchone() == ("happy", 1)


def test_pull_refuses_a_project_that_has_sql(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sql/ already holds files: pull says --replace, and writes nothing."""
    assert run(project, "pull", "--url", fresh_database(FIXTURE)) == 1
    assert "pass --replace" in capsys.readouterr().err
    assert (project / "sql" / "content.sql").exists()


def test_pull_of_this_projects_database_drift_checks_clean(
    migrated_database: Callable[[], str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pull the project's own migrated database: migrations/ build exactly the pulled sql/."""
    url = migrated_database()
    assert run(project, "pull", "--url", url, "--replace") == 0
    assert not (project / "sql" / "content.sql").exists()
    capsys.readouterr()
    assert run(project, "gen", "--check", "--url", url) == 0, capsys.readouterr()
    assert "sql/ and migrations/ agree" in capsys.readouterr().out


def test_pull_names_what_it_cannot_write(
    fresh_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partitioned table is refused by name, not written wrong."""
    url = fresh_database("CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);")
    assert run(_empty_project(tmp_path / "p"), "pull", "--url", url) == 1
    assert "public.events (a partitioned table)" in capsys.readouterr().err


def test_pull_gen_check_mark_adopts_a_database(
    fresh_database: Callable[..., str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database built without yoyo (as the TypeScript package's was), with rows, is adopted
    in three commands: afterwards ``status`` says up to date and the rows are still there."""
    url = fresh_database()
    build_from_sql(url, project / "sql")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, name, email) VALUES ('u1', 'Ann', 'ann@x.test')")
    assert run(project, "pull", "--url", url, "--replace") == 0
    assert run(project, "gen", "--check", "--url", url) == 0, capsys.readouterr()
    assert run(project, "mark", "--url", url) == 0, capsys.readouterr()
    capsys.readouterr()
    assert run(project, "status", "--url", url) == 0
    assert "0 pending" in capsys.readouterr().out
    assert run(project, "check", "--url", url, "--skip", "lint", "--skip", "vet") == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("ann@x.test",)]
