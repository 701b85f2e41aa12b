"""``codex-db gen``: write the migrations that take ``migrations/`` to ``sql/``, proven first.

`generate()` works in four phases and touches the project only in the last:

1. **plan**: build ``migrations/`` and ``sql/`` in scratch databases, apply the
   declared (or confirmed) renames, diff the rest with ``results``, and
   `compose` it into safe migrations;
2. **replay**: run each migration on a copy of the previous state, measuring
   which statements rewrite their table, and diff each state back to get the
   main migration's rollback;
3. **verify**: every check ``codex-db check`` runs, on the new files: squawk
   lint, then on a scratch database holding sample rows in every table: apply
   with `codex_db.migrate.apply` (the path production takes), compare with
   ``sql/``, roll each new migration back and compare with the state before it,
   apply again, and ``sqlc vet`` the queries;
4. **write** the files and regenerate the Python code.

Any failure raises before phase 4, so the tree stays as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from yoyo import read_migrations
from yoyo.migrations import heads

from codex_db import migrate
from codex_db.errors import CodexDBError, MigrationError
from codex_db.project import Project
from codex_db.workflow import catalog, checks, compose, lint, sample
from codex_db.workflow.changes import (
    Ask,
    Intent,
    ask_renames,
    check_intent,
    dependent_renames,
    rename_statements,
    reverse_renames,
)
from codex_db.workflow.compose import Draft, Review, Step
from codex_db.workflow.errors import DriftError, VerificationError
from codex_db.workflow.history import next_number, slug
from codex_db.workflow.schemadiff import build_from_sql, diff, scratch_database, snapshot

__all__ = ["Generated", "Migration", "Rewrite", "generate"]

_LABELS = ("sql/", "migrations/")
_SUFFIX = {"main": "", "indexes": "_indexes", "validate": "_validate"}


class Migration(msgspec.Struct, frozen=True):
    """One migration file pair `generate()` wrote."""

    id: str
    path: Path
    rollback_path: Path
    role: str
    transactional: bool


class Rewrite(msgspec.Struct, frozen=True):
    """Whether one ``ALTER TABLE`` statement rewrote its table (measured on a scratch copy)."""

    statement: str
    table: str
    rewrites: bool


class Generated(msgspec.Struct, frozen=True):
    """What `generate()` wrote and what it found on the way."""

    migrations: list[Migration]
    reviews: list[Review]
    rewrites: list[Rewrite]
    notes: list[str]
    """Informational differences (column order)."""
    sample: str
    """What the verification's sample data held (`codex_db.workflow.sample.Filled`)."""
    renames: list[str]


class _Planned(msgspec.Struct, frozen=True):
    drafts: list[Draft]
    rollbacks: list[list[Step]]
    states: list[catalog.Snapshot]
    reviews: list[Review]
    rewrites: list[Rewrite]
    notes: list[str]
    renames: list[str]


def generate(
    server_url: str,
    project: Project,
    *,
    name: str = "change",
    intent: Intent | None = None,
    ask: Ask | None = None,
    progress: Callable[[str], object] | None = None,
    regenerate: Callable[[Project], object] | None = None,
) -> Generated | None:
    """Write the migrations that take ``migrations/`` to ``sql/``; ``None`` when they agree.

    *intent* holds the declared renames, backfills and ``--allow-data-loss``;
    *ask* (a terminal's yes/no) is asked about drops that may be renames.
    *regenerate* (``sqlc generate``) runs after the files are written.
    Scratch databases are created on *server_url*.

    Raises:
        NeedsDecisionError: a decision is missing (a backfill, data loss).
        ChangeError: a declared change does not fit the schemas.
        DriftError: the differ cannot express the change.
        VerificationError: a check of the new migrations failed (which, and why).
    """
    say = progress or (lambda _: None)
    _compiles(project)
    planned = _plan(server_url, project, intent or Intent(), ask, say)
    if planned is None:
        return None
    texts = _render(project, name, planned)
    with _staged(project, texts) as staged:
        say("lint: squawk on the new migrations")
        _lint(staged, [staged.migrations / f"{mid}.sql" for mid, *_ in texts])
        filled = _verify(server_url, project, staged, planned, [mid for mid, *_ in texts], say)
    written = _write(project, texts, planned)
    if regenerate is not None:
        try:
            regenerate(project)
        except Exception:
            for migration in written:
                migration.path.unlink(missing_ok=True)
                migration.rollback_path.unlink(missing_ok=True)
            raise
    return Generated(
        written,
        planned.reviews,
        planned.rewrites,
        planned.notes,
        filled,
        planned.renames,
    )


# -- 1. plan and 2. replay --------------------------------------------------------------------


def _compiles(project: Project) -> None:
    """Fail before any database work when sqlc cannot compile the queries (its message)."""
    if not project.sqlc_config.is_file():
        return
    from codex_db.codegen.check import check

    try:
        check(project.sqlc_config)
    except CodexDBError as exc:
        raise VerificationError(
            f"codegen: {exc}\n(fix the query or sql/, then run codex-db gen again;"
            " nothing was written)"
        ) from exc


def _plan(
    server_url: str, project: Project, intent: Intent, ask: Ask | None, say: Callable[[str], object]
) -> _Planned | None:
    with ExitStack() as stack:
        say("plan: building migrations/ and sql/ in scratch databases")
        current = stack.enter_context(scratch_database(server_url))
        migrate.apply(current, source=project.migrations)
        _drop_bookkeeping(current)
        target = stack.enter_context(scratch_database(server_url))
        build_from_sql(target, project.sql)
        before, after = snapshot(current), snapshot(target)
        check_intent(intent, before, after)
        intent = ask_renames(intent, before, after, ask)
        renamed = stack.enter_context(scratch_database(server_url, template=current))
        renames, undo = _rename(renamed, intent, after)
        forward = diff(renamed, target)
        renamed_snapshot = snapshot(renamed)
        if not forward and not renames:
            differences = catalog.compare(after, before, labels=_LABELS)
            if differences:
                raise DriftError(_unexpressed(differences))
            return None
        composed = compose.compose(renames, forward, renamed_snapshot, after, intent)
        say(f"replay: {len(composed.drafts)} migration(s) on copies of the schema")
        states, rollbacks, rewrites = _replay(stack, server_url, current, renamed, composed, undo)
        problems = catalog.compare(after, states[-1], labels=_LABELS)
        if problems:
            raise DriftError(_unexpressed(problems))
        drafts = [_with_measured(d, rewrites) for d in composed.drafts]
        return _Planned(
            drafts,
            rollbacks,
            states,
            list(composed.reviews),
            rewrites,
            catalog.notes(after, states[-1]),
            [sql for sql, _ in renames],
        )


def _rename(
    url: str, intent: Intent, target: catalog.Snapshot
) -> tuple[list[tuple[str, str]], list[str]]:
    """Apply the declared renames and the renames they imply on *url*; return them and their undo.

    The forward statements come with the reason their squawk ignore gives; the
    undo statements are in the order that restores the original names.
    """
    forward: list[tuple[str, str]] = []
    backward = reverse_renames(intent)
    labels = _rename_labels(intent)
    with psycopg.connect(url, autocommit=True) as conn:
        for sql, label in zip(rename_statements(intent), labels, strict=True):
            conn.execute(sql.encode())
            why = f"declared rename ({label}): deploy the code using the new name with it"
            forward.append((sql, why))
        while pairs := dependent_renames(catalog.snapshot(conn), target):
            for sql, undo in pairs:
                conn.execute(sql.encode())
                forward.append((sql, "same definition, renamed to follow sql/"))
                backward.insert(0, undo)
    return forward, backward


def _rename_labels(intent: Intent) -> list[str]:
    labels = [f"--rename-table {r.describe()}" for r in intent.tables]
    return labels + [f"--rename {r.describe()}" for r in intent.columns]


def _replay(
    stack: ExitStack,
    server_url: str,
    current: str,
    renamed: str,
    composed: compose.Composition,
    undo_renames: list[str],
) -> tuple[list[catalog.Snapshot], list[list[Step]], list[Rewrite]]:
    """Run each draft on a copy of the previous state; the snapshots, rollbacks and rewrites."""
    states = [snapshot(current)]
    rollbacks: list[list[Step]] = []
    rewrites: list[Rewrite] = []
    previous = current
    for draft in composed.drafts:
        state = stack.enter_context(scratch_database(server_url, template=previous))
        rewrites += _run_draft(state, draft)
        if draft.role == "main":
            back = diff(state, renamed)
            after_undo = compose.collapse(back, snapshot(state))
            rollbacks.append(
                [Step(compose.LOCK_TIMEOUT_LOCAL)]
                + [Step(s) for s in after_undo]
                + [Step(s) for s in undo_renames]
            )
        else:
            rollbacks.append(compose.rollback(draft))
        states.append(snapshot(state))
        previous = state
    return states, rollbacks, rewrites


def _run_draft(url: str, draft: Draft) -> list[Rewrite]:
    measured: list[Rewrite] = []
    with psycopg.connect(url, autocommit=True) as conn:
        block = conn.transaction() if draft.transactional else _nothing()
        with block:
            for step in draft.steps:
                table = _altered_table(step.sql)
                before = _relfilenode(conn, table) if table else None
                try:
                    conn.execute(step.sql.encode())
                except psycopg.Error as exc:
                    raise VerificationError(
                        f"the {draft.role} migration fails on a copy of the schema built by"
                        f" migrations/ (no rows yet): {str(exc).strip()}\n  statement: {step.sql}"
                    ) from exc
                if table and before is not None:
                    after = _relfilenode(conn, table)
                    measured.append(Rewrite(step.sql, _short(table), after != before))
    return measured


@contextmanager
def _nothing() -> Iterator[None]:
    yield


_ALTER_TABLE = re.compile(
    r'^alter table (?:only )?("(?:[^"]|"")+"|[\w$]+)\.("(?:[^"]|"")+"|[\w$]+) ', re.I
)


def _altered_table(sql: str) -> str | None:
    match = _ALTER_TABLE.match(sql.strip())
    if match is None or re.search(r"\brename\b", sql, re.I):
        return None
    return f"{match.group(1)}.{match.group(2)}"


def _relfilenode(conn: psycopg.Connection[Any], table: str) -> int | None:
    row = conn.execute(
        "SELECT relfilenode FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _with_measured(draft: Draft, rewrites: list[Rewrite]) -> Draft:
    """*draft* with each reviewed rewrite's ignore reason stating what was measured."""
    found = {r.statement: r for r in rewrites}
    steps: list[Step] = []
    for step in draft.steps:
        measured = found.get(step.sql)
        if measured is not None and step.ignores:
            verdict = "rewrites" if measured.rewrites else "does not rewrite"
            table = _short(measured.table)
            reason = f"measured by codex-db gen on a scratch copy: {verdict} {table}"
            ignores = tuple(
                (rule, reason if "measures whether it rewrites" in why else why)
                for rule, why in step.ignores
            )
            step = msgspec.structs.replace(step, ignores=ignores)
        steps.append(step)
    return msgspec.structs.replace(draft, steps=tuple(steps))


def _drop_bookkeeping(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = ", ".join(f'"{t}"' for t in catalog.IGNORED_TABLES)
        conn.execute(f"DROP TABLE IF EXISTS {tables}".encode())


def _unexpressed(differences: list[str]) -> str:
    listed = "\n  ".join(differences)
    return (
        "the schema differ cannot express this change, so no migration was written;"
        " write it by hand with `codex-db new` (or split the change into smaller steps):\n  "
        + listed
    )


# -- 3. verify ---------------------------------------------------------------------------------


@contextmanager
def _staged(project: Project, texts: list[tuple[str, str, str, str]]) -> Iterator[Project]:
    """A temporary project: the migrations plus the new files, with the real sql/, queries/."""
    with tempfile.TemporaryDirectory(prefix="codex-db-gen-") as folder:
        root = Path(folder)
        shutil.copytree(project.migrations, root / "migrations")
        for mid, text, rollback, _ in texts:
            (root / "migrations" / f"{mid}.sql").write_text(text)
            (root / "migrations" / f"{mid}.rollback.sql").write_text(rollback)
        if project.squawk_config.is_file():
            shutil.copy(project.squawk_config, root / ".squawk.toml")
        yield Project(root, project.sql, root / "migrations", project.queries)


def _lint(staged: Project, files: list[Path]) -> None:
    report = lint.lint(staged, files)
    if report.ok:
        return
    lines = "\n  ".join(w.describe(staged.root) for w in report.warnings)
    raise VerificationError(
        "lint: squawk rejects the generated migration, so nothing was written"
        f" (change sql/, or exclude the rule in .squawk.toml with a reason):\n  {lines}"
    )


def _verify(
    server_url: str,
    project: Project,
    staged: Project,
    planned: _Planned,
    new: list[str],
    say: Callable[[str], object],
) -> str:
    with scratch_database(server_url) as url:
        migrate.apply(url, source=project.migrations)
        filled = sample.fill(url, catalog.IGNORED_TABLES)
        say(f"verify: apply, roll back and apply again on sample data ({filled.describe()})")
        _checked(lambda: migrate.apply(url, source=staged.migrations), "applying the migrations")
        _same(planned.states[-1], url, "applying the new migrations to a database with rows")
        for index in range(len(new) - 1, -1, -1):
            _checked(
                lambda: migrate.rollback(url, count=1, source=staged.migrations),
                f"rolling back {new[index]}",
            )
            _same(planned.states[index], url, f"rolling back {new[index]}")
        _checked(lambda: migrate.apply(url, source=staged.migrations), "applying them again")
        _same(planned.states[-1], url, "applying them again after the rollback")
        outcome = checks.vet_on(url, staged)
        if outcome.status == "failed":
            raise VerificationError(
                f"vet: a query does not prepare on the migrated schema:\n{outcome.detail}"
            )
        return filled.describe()


def _checked(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except MigrationError as exc:
        raise VerificationError(
            f"{what} failed on a scratch database holding sample rows, so nothing was"
            f" written: {exc}"
        ) from exc


def _same(expected: catalog.Snapshot, url: str, what: str) -> None:
    problems = catalog.compare(expected, snapshot(url), labels=("expected", "got"))
    if problems:
        listed = "\n  ".join(problems)
        raise VerificationError(f"{what} does not give the expected schema:\n  {listed}")


# -- 4. write ----------------------------------------------------------------------------------


def _render(project: Project, name: str, planned: _Planned) -> list[tuple[str, str, str, str]]:
    """``(id, text, rollback text, role)`` of each new migration, numbered after the last."""
    existing = read_migrations(str(project.migrations))
    depends = " ".join(sorted(m.id for m in heads(existing)))
    number = next_number(str(m.id) for m in existing)
    tail = slug(name)
    texts: list[tuple[str, str, str, str]] = []
    for offset, (draft, rollback) in enumerate(zip(planned.drafts, planned.rollbacks, strict=True)):
        mid = f"{number + offset:04d}.{tail}{_SUFFIX[draft.role]}"
        header = [f"-- {name}: {_ROLE[draft.role]} (generated by `codex-db gen` from sql/)."]
        if draft.role == "main":
            header += [f"-- REVIEW {r.describe()}" for r in planned.reviews]
        if not draft.transactional:
            header.append("-- transactional: false")
        if depends:
            header.append(f"-- depends: {depends}")
        text = "\n".join(header) + "\n\n" + _script(draft.steps)
        back = f"-- Rollback of {mid} (generated by `codex-db gen`).\n\n" + _script(rollback)
        texts.append((mid, text, back, draft.role))
        depends = mid
    return texts


_ROLE = {
    "main": "the change",
    "indexes": "indexes built or dropped CONCURRENTLY, outside a transaction",
    "validate": "constraints validated after the change, without blocking writes",
}


def _write(
    project: Project, texts: list[tuple[str, str, str, str]], planned: _Planned
) -> list[Migration]:
    written: list[Migration] = []
    for (mid, text, rollback, role), draft in zip(texts, planned.drafts, strict=True):
        path = project.migrations / f"{mid}.sql"
        rollback_path = project.migrations / f"{mid}.rollback.sql"
        path.write_text(text)
        rollback_path.write_text(rollback)
        written.append(Migration(mid, path, rollback_path, role, draft.transactional))
    return written


def _script(steps: tuple[Step, ...] | list[Step]) -> str:
    return "\n\n".join(step.render() for step in steps) + "\n"


def _short(qualified: str) -> str:
    return qualified.replace('"', "").removeprefix("public.")
