"""The codex-db demo: the whole job, each step printed as the command or call behind it.

1. Start and migrate the database: ``DATABASE_URL`` when set, otherwise the
   embedded PostgreSQL 18 in the project's ``.codex-db/pgdata``.
2. The runtime: generated query functions, transactions, pagination, errors,
   triggers and sessions on that database.
3. A schema change in a scratch copy of the project, on a scratch database of
   the same server: add a column and a query, ``codex-db gen``, ``codex-db
   migrate``, call the new generated function, ``codex-db check``. The
   checkout and the demo database are left as they were.
4. The studio: started, one page fetched, stopped.

Every run uses fresh names, so it can run again and again on the same database.
``$ ...`` lines are the real ``codex-db`` commands, run as subprocesses;
``>>> ...`` lines are the Python run in this process.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from codex_db import (
    _target,
    db_http,
    db_ws,
    get_all_trigger_names,
    get_constraint_name,
    get_error_detail,
    get_trigger_metadata,
    is_check_violation,
    is_foreign_key_violation,
    is_not_null_violation,
    is_unique_violation,
    migrate,
    new_id,
    paginate,
    test_db_connection,
)
from codex_db._dsn import display, with_dbname
from codex_db.auth import get_session, sign_session_token
from codex_db.generated import content, media_items, models, organizations, sessions, users
from codex_db.project import Project
from codex_db.server import start_embedded
from codex_db.workflow import seed

T = TypeVar("T")
Headers = dict[str, str]

ROOT = Path(__file__).resolve().parent.parent
#: What the scratch copy holds, and what must be as it was in the checkout afterwards.
_COPIED = ("sql", "migrations", "queries", "seed", ".squawk.toml", "sqlc.yaml")
_WATCHED = ("sql", "migrations", "queries", "seed", "sqlc.yaml", "codex_db/generated")
#: Output lines shown per command (the rest is counted).
_LINES = 24


def main() -> None:
    """Walk through the whole job; raise on the first thing that does not behave."""
    os.chdir(ROOT)  # the embedded server's data directory is the project's .codex-db/pgdata
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each step as it happens, also in a pipe
    run = uuid.uuid4().hex[:6]
    url = _database()
    _runtime(run)
    _schema_change(url, run)
    _studio()
    print("\ndemo finished: every step behaved as documented")


def _runtime(run: str) -> None:
    _section("2. the runtime: generated query functions on db_http (autocommit) and db_ws")
    jane, org, video = _create_in_one_transaction(run)
    _publish_and_join(video)
    _filter_and_paginate(org)
    _media_lifecycle(jane)
    _soft_delete_and_restore(video)
    _constraint_violations(jane, org)
    _delete_organization(jane, run)
    _auth(jane)
    _triggers()


# -- printing ------------------------------------------------------------------------------


def _section(title: str) -> None:
    print(f"\n== {title}")


def _call(code: str) -> None:
    """Print *code*, the Python behind the next result, as the interpreter shows it."""
    lines = textwrap.dedent(code).strip().splitlines()
    print(f">>> {lines[0]}")
    for line in lines[1:]:
        print(f"... {line}")


def _result(*lines: str) -> None:
    for line in lines:
        print(f"    {line}")


def _trimmed(text: str, limit: int = _LINES) -> list[str]:
    """The non-blank lines of *text*, at most *limit* of them (the rest counted)."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], f"... ({len(lines) - limit + 1} more lines)"]


def _codex_db(*argv: str, cwd: Path, names: Mapping[str, str] | None = None) -> str:
    """Print ``$ codex-db ARGV``, run it in *cwd* and print its (trimmed) output; the output.

    *names* maps long strings (a URL, a temporary folder) to the short names printed.
    """
    names = names or {}
    print(f"$ {_named(' '.join(['codex-db', *argv]), names)}")
    done = subprocess.run(  # noqa: S603 - this Python running codex-db, no shell
        [sys.executable, "-m", "codex_db", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    output = _named(done.stdout, names)
    if done.returncode != 0:
        print(output)
        raise SystemExit(f"demo: codex-db {argv[0]} exited {done.returncode}")
    _result(*_trimmed(output))
    return output


def _named(text: str, names: Mapping[str, str]) -> str:
    for long, short in names.items():
        text = text.replace(long, short)
    return text


# -- 1. the database -----------------------------------------------------------------------


def _database() -> str:
    """Start (if embedded), migrate and seed the demo database; its URL."""
    target = _target.resolve()
    _section("1. the database: start it, migrate it, seed it")
    if target.embedded:
        _call("codex_db.server.start_embedded()  # every command does this without DATABASE_URL")
        server = start_embedded(target.settings.data_dir)
        where = server.data_dir.relative_to(ROOT) if server.data_dir.is_relative_to(ROOT) else None
        _result(
            f"PostgreSQL 18 in {where or server.data_dir} (kept between runs;"
            " it stops when the last process using it exits)"
        )
        url = server.url
    else:
        print(f"{target.source} is set: {target.display} ({target.method.value})")
        url = target.conninfo
    _codex_db("migrate", cwd=ROOT)
    _codex_db("seed", cwd=ROOT)
    _call("test_db_connection()  # what an application runs at start-up")
    test_db_connection()
    version = db_http.query_one("SHOW server_version")
    _result(f"connected: PostgreSQL {version[0] if version else '?'}  {db_http!r}")
    return url


# -- 2. the runtime ------------------------------------------------------------------------


def _create_in_one_transaction(run: str) -> tuple[models.User, models.Organization, models.Content]:
    email, slug = f"jane-{run}@example.com", f"acme-{run}"
    _call(f"""
        with db_ws.transaction() as tx:  # all three rows, or none
            jane = users.create_user(tx, users.CreateUserParams(name="Jane Doe", email="{email}", ...))
            org = organizations.create_organization(tx, organizations.CreateOrganizationParams(slug="{slug}", owner_id=jane.id, ...))
            video = content.create_content(tx, content.CreateContentParams(title="Welcome Video", organization_id=org.id, ...))
    """)  # noqa: E501
    with db_ws.transaction() as tx:
        new_user = users.CreateUserParams(id=new_id(), name="Jane Doe", email=email)
        jane = _one(users.create_user(tx, new_user))
        new_org = organizations.CreateOrganizationParams(
            name=f"Acme {run}", slug=slug, description="A great company", owner_id=jane.id
        )
        org = _one(organizations.create_organization(tx, new_org))
        video = content.create_content(
            tx,
            content.CreateContentParams(
                creator_id=jane.id,
                organization_id=org.id,
                title="Welcome Video",
                slug="welcome",
                content_type="video",
                tags=["intro", "welcome"],
                price_cents=499,
            ),
        )
    video = _one(video)
    _result(
        f"{jane.email}, organization {org.slug}, {video.title!r}"
        f" ({video.status}, {video.visibility}, tags {video.tags})"
    )
    return jane, org, video


def _publish_and_join(video: models.Content) -> None:
    _call("content.publish_content(db_http, id=video.id)")
    published = _one(content.publish_content(db_http, id=video.id))
    _result(f"status={published.status} published_at={published.published_at:%Y-%m-%d %H:%M %Z}")
    _call("content.list_published_content_with_relations(db_http, max_rows=3)  # 4 tables joined")
    rows = content.list_published_content_with_relations(db_http, max_rows=3)
    for row in rows:
        org = row.organization.name if row.organization else "personal"
        media = f"media {row.media_item.status}" if row.media_item else "no media"
        _result(f"{row.content.title!r} by {row.user.name} in {org} ({media})")


def _filter_and_paginate(org: models.Organization) -> None:
    filters: dict[str, Any] = {"organization_id": org.id, "status": "published", "search": "wel"}
    _call("""
        filters = {"organization_id": org.id, "status": "published", "search": "wel"}
        paginate(lambda offset, limit: content.list_content(db_http, content.ListContentParams(**filters, skip_rows=offset, max_rows=limit)),
                 lambda: content.count_content(db_http, content.CountContentParams(**filters)), page=1, page_size=20)
    """)  # noqa: E501
    page = paginate(
        lambda offset, limit: content.search_content(
            db_http, content.SearchContentParams(**filters, skip_rows=offset, max_rows=limit)
        ),
        lambda: content.count_content(db_http, content.CountContentParams(**filters)),
        page=1,
        page_size=20,
    )
    _result(f"page {page.page}/{page.pages}: {len(page.items)} of {page.total} for search='wel'")
    _call("""content.count_content(db_http, content.CountContentParams(search="100%_off"))""")
    literal = content.count_content(db_http, content.CountContentParams(search="100%_off"))
    _result(f"{literal} (% and _ match literally)")


def _media_lifecycle(jane: models.User) -> None:
    _call("""
        media = media_items.create_media_item(db_http, media_items.CreateMediaItemParams(media_type="video", ...))
        for step in (media_items.mark_media_uploaded, media_items.mark_media_transcoding):
            step(db_http, id=media.id)
        media_items.mark_media_ready(db_http, media_items.MarkMediaReadyParams(id=media.id, width=1920, height=1080, ...))
    """)  # noqa: E501
    media = media_items.create_media_item(
        db_http,
        media_items.CreateMediaItemParams(
            creator_id=jane.id,
            title="My Video",
            media_type="video",
            r2_key=f"originals/{uuid.uuid4()}/video.mp4",
            file_size_bytes=1_024_000,
            mime_type="video/mp4",
        ),
    )
    media = _one(media)
    steps = [media.status]
    for step in (media_items.mark_media_uploaded, media_items.mark_media_transcoding):
        steps.append(_one(step(db_http, id=media.id)).status)
    ready = media_items.mark_media_ready(
        db_http,
        media_items.MarkMediaReadyParams(
            id=media.id,
            duration_seconds=120,
            width=1920,
            height=1080,
            hls_master_playlist_key=f"hls/{media.id}/master.m3u8",
            thumbnail_key=f"thumbnails/{media.id}/thumb.jpg",
        ),
    )
    ready = _one(ready)
    steps.append(ready.status)
    _result(" -> ".join(steps) + f" ({ready.width}x{ready.height}, {ready.duration_seconds} s)")


def _soft_delete_and_restore(video: models.Content) -> None:
    _call("content.soft_delete_content(db_http, id=video.id); content.get_content(...)")
    content.soft_delete_content(db_http, id=video.id)
    _result(f"{content.get_content(db_http, id=video.id)}  (hidden from every query)")
    _call("content.restore_content(db_http, id=video.id); content.get_content(...)")
    content.restore_content(db_http, id=video.id)
    restored = _one(content.get_content(db_http, id=video.id))
    _result(f"{restored.title!r} is back ({restored.status})")


def _constraint_violations(jane: models.User, org: models.Organization) -> None:
    print("# refused by the schema; each caught and classified (is_unique_violation(e) ...):")
    attempts: list[tuple[str, Callable[[], object]]] = [
        (
            "users.create_user(db_http, users.CreateUserParams(email=jane.email, ...))",
            lambda: users.create_user(
                db_http, users.CreateUserParams(id=new_id(), name="Copy", email=jane.email)
            ),
        ),
        (
            "content.create_content(db_http, content.CreateContentParams(organization_id=uuid4(), ...))",  # noqa: E501
            lambda: content.create_content(
                db_http,
                content.CreateContentParams(
                    creator_id=jane.id,
                    organization_id=uuid.uuid4(),
                    title="x",
                    slug="x",
                    content_type="video",
                ),
            ),
        ),
        (
            """db_http.run("INSERT INTO users (id, name, email) VALUES (%s, NULL, %s)", ...)""",
            lambda: db_http.run(
                "INSERT INTO users (id, name, email) VALUES (%s, NULL, %s)", (new_id(), "n@x.test")
            ),
        ),
        (
            """content.create_content(db_http, content.CreateContentParams(content_type="podcast", ...))""",  # noqa: E501
            lambda: content.create_content(
                db_http,
                content.CreateContentParams(
                    creator_id=jane.id,
                    organization_id=org.id,
                    title="x",
                    slug=f"x-{new_id()}",
                    content_type="podcast",
                ),
            ),
        ),
    ]
    for code, attempt in attempts:
        _call(code)
        try:
            attempt()
        except Exception as error:
            detail = get_error_detail(error) if is_unique_violation(error) else None
            name = get_constraint_name(error)
            found = f"{_classify(error)} violation" + (f", constraint {name}" if name else "")
            _result(found + (f": {detail}" if detail else ""))
        else:
            raise SystemExit(f"demo: {code} was accepted, the schema should refuse it")


def _classify(error: Exception) -> str:
    checks = [
        (is_unique_violation, "unique"),
        (is_foreign_key_violation, "foreign key"),
        (is_not_null_violation, "not null"),
        (is_check_violation, "check"),
    ]
    for predicate, name in checks:
        if predicate(error):
            return name
    raise error


def _delete_organization(jane: models.User, run: str) -> None:
    doomed = organizations.create_organization(
        db_http, organizations.CreateOrganizationParams(name="Short-lived", slug=f"gone-{run}")
    )
    doomed = _one(doomed)
    item = content.create_content(
        db_http,
        content.CreateContentParams(
            creator_id=jane.id,
            organization_id=doomed.id,
            title="Org video",
            slug="org-video",
            content_type="video",
        ),
    )
    item = _one(item)
    content.publish_content(db_http, id=item.id)
    _call("""
        db_http.run("DELETE FROM organizations WHERE id = %s", (doomed.id,))  # content published
        content.get_content(db_http, id=item.id)
    """)
    db_http.run("DELETE FROM organizations WHERE id = %s", (doomed.id,))
    after = _one(content.get_content(db_http, id=item.id))
    _result(
        f"status={after.status} organization_id={after.organization_id}"
        f" published_at={after.published_at}  (trigger unpublish_content_on_org_delete)"
    )


def _auth(jane: models.User) -> None:
    secret = new_id()
    login = sessions.create_session(
        db_http,
        sessions.CreateSessionParams(
            id=new_id(),
            token=new_id(),
            user_id=jane.id,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ),
    )
    login = _one(login)
    cookie = f"better-auth.session_token={sign_session_token(login.token, secret)}"
    forged_cookie = cookie[:-6] + "AAAA%3D"
    _call("""get_session({"Cookie": cookie}, secret=secret)  # a better-auth session cookie""")
    found = get_session({"Cookie": cookie}, secret=secret)
    forged = get_session({"Cookie": forged_cookie}, secret=secret)
    _result(f"session of {found.user.email if found else None}; a forged signature -> {forged}")
    sessions.delete_session(db_http, token=login.token)


def _triggers() -> None:
    _call("""get_trigger_metadata("unpublish_content_on_org_delete")""")
    names = get_all_trigger_names()
    meta = get_trigger_metadata("unpublish_content_on_org_delete")
    _result(
        f"{meta.table} {meta.timing} {meta.event}: {meta.business_reason}"
        f" (1 of the {len(names)} in get_all_trigger_names())"
    )


def _one(value: T | None) -> T:
    """*value*, which a query must have returned."""
    if value is None:
        raise SystemExit("demo: a query returned no row where one was expected")
    return value


# -- 3. a schema change --------------------------------------------------------------------

#: The edit: a column, declared in sql/ ...
_COLUMN_ANCHOR = "    CONSTRAINT content_pkey PRIMARY KEY (id),\n"
_COLUMN = "    summary text,\n"
#: ... and a query that uses it, in queries/.
_QUERY = """
-- name: SetContentSummary :one
-- Set a content item's summary; its id, title and summary.
UPDATE content SET summary = @summary WHERE id = @id AND deleted_at IS NULL
RETURNING id, title, summary;
"""
#: The scratch copy's generated package (the checkout's is codex_db.generated).
_PACKAGE = "demo_app.db"
#: Run in a new process in the scratch copy, where demo_app/db is the code `gen` wrote.
_USE_IT = f"""
import os
from uuid import UUID
from codex_db import Database
from {_PACKAGE} import content

welcome = UUID("5eed0000-0000-4000-8000-000000000201")  # seed/01_demo.sql's 'Welcome Video'
with Database.from_url(os.environ["SCRATCH_DB"]) as db:
    print(content.set_content_summary(db, id=welcome, summary="Start here: a two-minute tour"))
    print(content.get_content(db, id=welcome).summary)  # models.Content has the column too
"""


def _schema_change(url: str, run: str) -> None:
    """Add a column and a query in a scratch copy; gen, migrate, call it, check."""
    _section("3. a schema change, in a scratch copy of the project on a scratch database")
    before = _fingerprint()
    dbname = f"codex_demo_{run}"
    scratch_url = with_dbname(url, dbname)
    scratch = Path(tempfile.mkdtemp(prefix="codex-db-demo-"))
    names = {
        scratch_url: "$SCRATCH_DB",
        display(scratch_url): "$SCRATCH_DB",
        str(scratch): "$SCRATCH",
    }
    try:
        _copy_project(scratch)
        _scratch_database(scratch, scratch_url, dbname)
        _edit(scratch)
        _codex_db(
            "gen", "--name", "add_summary", "--yes", "--url", scratch_url, cwd=scratch, names=names
        )
        _codex_db("migrate", "--url", scratch_url, cwd=scratch, names=names)
        _use_new_function(scratch, scratch_url)
        _codex_db("check", "--url", scratch_url, cwd=scratch, names=names)
    finally:
        _call(f"db_http.run('DROP DATABASE {dbname} WITH (FORCE)'); shutil.rmtree(SCRATCH)")
        db_http.run(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        shutil.rmtree(scratch, ignore_errors=True)
    if _fingerprint() != before:
        raise SystemExit(f"demo: the checkout changed ({', '.join(_WATCHED)})")
    _result(f"the checkout is unchanged: {', '.join(_WATCHED)}")


def _copy_project(scratch: Path) -> None:
    print(f"$ cp -r {' '.join(_COPIED)} $SCRATCH && cd $SCRATCH")
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, scratch / name)
        else:
            shutil.copy2(source, scratch / name)
    config = (scratch / "sqlc.yaml").read_text()
    config = config.replace("out: codex_db/generated", f"out: {_PACKAGE.replace('.', '/')}")
    config = config.replace("package: codex_db.generated", f"package: {_PACKAGE}")
    if _PACKAGE not in config:
        raise SystemExit("demo: sqlc.yaml no longer says out: codex_db/generated; update the demo")
    (scratch / "sqlc.yaml").write_text(config)
    _result(
        f"SCRATCH={scratch}",
        f"sqlc.yaml there: out {_PACKAGE.replace('.', '/')}, package {_PACKAGE}"
        " (the copy's own generated code, apart from the installed codex_db.generated)",
    )


def _scratch_database(scratch: Path, scratch_url: str, dbname: str) -> None:
    _call(f"""
        db_http.run('CREATE DATABASE {dbname}')  # SCRATCH_DB, on the demo database's server
        migrate.apply(SCRATCH_DB); seed.seed(SCRATCH_DB, Project.at(SCRATCH))
    """)
    try:
        db_http.run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise SystemExit(
            f"demo: the schema change needs a scratch database, and {db_http!r} may not create"
            " one: grant the role CREATEDB, or unset DATABASE_URL for the embedded server"
        ) from exc
    applied = migrate.apply(scratch_url)
    files = seed.seed(scratch_url, Project.at(scratch))
    _result(f"{len(applied)} migration(s) applied, ran {', '.join(p.name for p in files)}")


def _edit(scratch: Path) -> None:
    print("$ $EDITOR sql/content.sql queries/content.sql  # a column, and a query that uses it")
    schema = scratch / "sql" / "content.sql"
    text = schema.read_text()
    if _COLUMN_ANCHOR not in text:
        raise SystemExit(f"demo: {_COLUMN_ANCHOR.strip()!r} is no longer in sql/content.sql")
    schema.write_text(text.replace(_COLUMN_ANCHOR, _COLUMN + _COLUMN_ANCHOR, 1))
    with (scratch / "queries" / "content.sql").open("a") as queries:
        queries.write(_QUERY)
    _result(f"sql/content.sql (CREATE TABLE content):  + {_COLUMN.strip()}")
    _result(*(f"queries/content.sql:  + {line}" for line in _QUERY.strip().splitlines()))


def _use_new_function(scratch: Path, scratch_url: str) -> None:
    print('$ SCRATCH_DB=... python -c "$CODE"  # in $SCRATCH, where demo_app/db is the new code')
    _call(_USE_IT)
    env = {**os.environ, "SCRATCH_DB": scratch_url, "PYTHONPATH": str(scratch)}
    done = subprocess.run(  # noqa: S603 - this Python running our own code, no shell
        [sys.executable, "-c", _USE_IT],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"demo: the new function failed:\n{done.stdout}{done.stderr}")
    _result(*_trimmed(done.stdout))


def _fingerprint() -> str:
    """A digest of the checkout's schema, migrations, queries and generated code."""
    digest = hashlib.sha256()
    for name in _WATCHED:
        path = ROOT / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


# -- 4. the studio -------------------------------------------------------------------------


def _studio() -> None:
    _section("4. the studio: a web GUI for the demo database")
    print("$ codex-db studio --no-browser --port 0  # `codex-db studio`: port 4983 and a browser")
    with _studio_process() as start_url:
        status, tables = _fetch_tables(start_url)
        _result(f"GET / (after the token's redirect) -> {status}: {len(tables)} tables listed")
        if status != 200 or "content" not in tables:
            raise SystemExit(f"demo: the studio answered {status} with tables {tables}")
    _result("stopped; run `codex-db studio` to browse the demo database")


@contextmanager
def _studio_process() -> Iterator[str]:
    """Start ``codex-db studio``, print what it prints (token masked); its start URL."""
    command = [sys.executable, "-m", "codex_db", "studio", "--no-browser", "--port", "0"]
    proc = subprocess.Popen(  # noqa: S603 - this Python running codex-db, no shell
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    watchdog = threading.Timer(60, proc.kill)  # a studio that never prints its URL
    watchdog.start()
    try:
        start_url = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            _result(re.sub(r"token=[^&\s]+", "token=...", line.rstrip()))
            found = re.search(r"open (http://\S+)", line)
            start_url = found.group(1) if found else start_url
            if "press Ctrl-C" in line:
                break
        if not start_url:
            raise SystemExit(f"demo: codex-db studio printed no URL (exit {proc.wait()})")
        yield start_url
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=30)


def _fetch_tables(start_url: str) -> tuple[int, list[str]]:
    """Open *start_url* as a browser would; the status of the table list and its tables."""
    parts = urlsplit(start_url)
    status, headers, _ = _get(parts.port or 80, parts.netloc, f"/?{parts.query}", {})
    if status != 303:
        return status, []
    cookie = headers.get("set-cookie", "").split(";")[0]
    status, _, body = _get(parts.port or 80, parts.netloc, "/", {"Cookie": cookie})
    return status, sorted(set(re.findall(r'href="/t/([^"/?]+)"', body)))


def _get(port: int, host: str, path: str, headers: Headers) -> tuple[int, Headers, str]:
    """GET *path* on 127.0.0.1:*port* under the studio's own host name (``*.localhost``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host, **headers})
        response = conn.getresponse()
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, response.read().decode()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
