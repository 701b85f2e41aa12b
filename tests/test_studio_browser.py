"""codex-db studio in a real headless Chromium: the token-to-cookie flow, and screenshots.

Skipped when Debian's ``chromium`` is not installed. Screenshots go to a
temporary directory, or to ``$CODEX_DB_STUDIO_SCREENSHOTS`` when set (e.g.
``docs/studio`` to refresh the README's pictures).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from codex_db.studio import StudioServer
from codex_db.testing import TestServer
from tests.test_studio import ORG_A, running, seeded

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def studio(pg_server: TestServer, migrated_template: str) -> Iterator[StudioServer]:
    """A read-only studio on a seeded database."""
    name = seeded(pg_server, migrated_template)
    try:
        with running(pg_server.database_url(name)) as server:
            yield server
    finally:
        pg_server.drop_database(name)


def browse(
    server: StudioServer, path: str, profile: Path, *options: str, **params: str
) -> subprocess.CompletedProcess[str]:
    """Open *path* with the start token in a fresh headless Chromium profile."""
    port = server.server_address[1]
    query = urlencode({**params, "token": server.guard.token})
    url = f"http://127.0.0.1:{port}{path}?{query}"
    argv = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *options,
        url,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=90, check=True)


def test_browser_follows_token_to_cookie_and_renders(studio: StudioServer, tmp_path: Path) -> None:
    """Chromium trades the start token for the cookie and renders the filtered page."""
    result = browse(
        studio, "/t/content", tmp_path / "profile", "--dump-dom", deleted="only", sort="title"
    )
    assert "12 matching rows" in result.stdout
    assert "<b>only deleted</b>" in result.stdout
    assert 'class="deleted"' in result.stdout


@pytest.mark.parametrize(
    ("name", "path", "params"),
    [
        ("tables", "/", {}),
        ("content", "/t/content", {"sort": "published_at", "dir": "desc"}),
        ("organization", "/t/organizations/row", {"k": ORG_A}),
    ],
)
def test_screenshots_of_main_views(
    studio: StudioServer, tmp_path: Path, name: str, path: str, params: dict[str, str]
) -> None:
    """Each main view renders to a PNG (kept under $CODEX_DB_STUDIO_SCREENSHOTS when set)."""
    folder = Path(os.environ.get("CODEX_DB_STUDIO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"studio-{name}.png"
    shot = ("--window-size=1280,800", f"--screenshot={target}")
    browse(studio, path, tmp_path / "profile", *shot, **params)
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
