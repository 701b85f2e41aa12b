"""The front page and the guides under docs/: their examples run, their links resolve.

Each Markdown file is a user guide whose ```python blocks are executed top to
bottom in a namespace of their own, against a fresh migrated database, and then
a second time against the same database: a guide must run on its own (nothing
from another guide) and again (unique values where a unique constraint applies).
Command lines in ```bash blocks are parsed by the real ``codex-db`` parser, and
every relative link must name an existing file and heading.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import codex_db
from codex_db.testing import TestServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *GUIDES]
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
#: The front page stays a page a person reads in a few minutes.
FRONT_PAGE_LINES = 260


def code_blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """Every ```*language* block of *path* with the line its code starts on."""
    text = path.read_text()
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(2))
        for m in _BLOCK.finditer(text)
        if m.group(1) == language
    ]


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """Every ```python block of *path* with the line its code starts on."""
    return code_blocks(path, "python")


def run_markdown_examples(path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run *path*'s blocks in order, in one namespace, with the default clients on *database_url*.

    Tracebacks name the Markdown file and line. The default clients' pools are
    closed before (so they read the new ``DATABASE_URL``) and after.
    """
    for name in ("DB_METHOD", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    codex_db.close_db_pool()
    try:
        for line, code in python_blocks(path):
            compiled = compile("\n" * (line - 1) + code, str(path), "exec")
            exec(compiled, namespace)  # noqa: S102 - the documented examples are the code under test
    finally:
        codex_db.close_db_pool()
        for value in namespace.values():
            if isinstance(value, codex_db.Database):
                value.close()


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if python_blocks(p)], ids=_name)
def test_examples_run_alone_and_again(
    path: Path, migrated_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guide's examples run on a fresh database, then once more on the same one."""
    monkeypatch.setenv("BETTER_AUTH_SECRET", "docs-example-secret-0123456789abcdef")
    url = migrated_database()
    run_markdown_examples(path, url, monkeypatch)
    run_markdown_examples(path, url, monkeypatch)


def test_front_page_is_short_and_maps_every_guide() -> None:
    """README.md is a front page: the two commands first, then a map of every guide."""
    text = README.read_text()
    assert len(text.splitlines()) <= FRONT_PAGE_LINES
    first_block = code_blocks(README, "bash")[0][1]
    lines = [line.split()[0] for line in first_block.splitlines() if line.split()[0] != "#"]
    assert lines == ["scripts/demo", "scripts/test"]
    linked = set(_LINK.findall(text))
    for guide in GUIDES:
        assert any(link.split("#")[0] == _name(guide) for link in linked), (
            f"{_name(guide)} not linked"
        )


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _BLOCK.sub("", path.read_text())
    return {_slug(h) for h in _HEADING.findall(text)}


def _links() -> Iterator[tuple[Path, str]]:
    for path in DOCUMENTS:
        text = _BLOCK.sub("", path.read_text())
        for target in _LINK.findall(text):
            if not re.match(r"[a-z]+:", target):
                yield path, target


@pytest.mark.parametrize("path", DOCUMENTS, ids=_name)
def test_links_resolve(path: Path) -> None:
    """Every relative link names a file that exists, and a heading of it that exists."""
    broken = []
    for source, target in _links():
        if source != path:
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.name}")
    assert not broken, f"{_name(path)}: " + "; ".join(broken)


def _codex_db_argv(line: str) -> list[str] | None:
    """The arguments of a ``[VAR=value ...] codex-db ...`` command line, else None."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words = words[1:]  # VAR=value prefixes
    return words[1:] if words and words[0] == "codex-db" else None


def _command_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The ``codex-db`` command lines of *path*: in bash blocks, and tables' example column."""
    for start, code in code_blocks(path, "bash"):
        for offset, line in enumerate(code.replace("\\\n", " ").splitlines()):
            argv = _codex_db_argv(line)
            if argv is not None:
                yield start + offset, argv
    for number, line in enumerate(path.read_text().splitlines(), 1):
        example = re.fullmatch(r"\|.*\| `([^`]+)` \|", line.strip())
        if line.startswith("| `codex-db") and example:
            argv = _codex_db_argv(example.group(1).replace("…", "x"))
            if argv is not None:
                yield number, argv


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if list(_command_lines(p))], ids=_name)
def test_command_lines_parse(path: Path) -> None:
    """Every ``codex-db`` command line shown is one the real parser accepts."""
    from codex_db.cli import _parser

    refused = []
    for line, argv in _command_lines(path):
        try:
            _parser().parse_args(argv)
        except SystemExit as exit_:
            if exit_.code not in (0, None):  # --version and --help exit 0
                refused.append(f"line {line}: codex-db {shlex.join(argv)}")
    assert not refused, f"{_name(path)}: the parser refuses " + "; ".join(refused)


def test_testing_guide_runs_as_a_test_file(
    pg_server: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/testing.md's blocks, written to a test module, pass under a real pytest run."""
    guide = ROOT / "docs" / "testing.md"
    module = tmp_path / "test_guide.py"
    module.write_text("\n\n".join(code for _, code in python_blocks(guide)))
    for name in ("DB_METHOD", "NODE_ENV", "APP_ENV", "DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", pg_server.url)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b[4-9] passed\b", result.stdout), result.stdout
