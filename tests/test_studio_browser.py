"""codex-db studio in Chromium's command line (no Selenium): the token-to-cookie flow, rendering.

Skipped when Debian's ``chromium`` is not installed. These checks need no
WebDriver; the clicking-through tests and the screenshots of docs/studio.md are in
``tests/test_studio_e2e.py``.
"""

from __future__ import annotations

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
    """Open *path* with the start token in a fresh headless Chromium profile.

    The URL names the studio's own ``.localhost`` host, which Chromium
    resolves to the loopback address by itself.
    """
    query = urlencode({**params, "token": server.guard.token})
    url = f"{server.guard.origin}{path}?{query}"
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
    ("path", "params"),
    [
        ("/", {}),
        ("/t/content", {"sort": "published_at", "dir": "desc"}),
        ("/t/organizations/row", {"k": ORG_A}),
    ],
)
def test_main_views_render_to_png(
    studio: StudioServer, tmp_path: Path, path: str, params: dict[str, str]
) -> None:
    """Each main view renders to a non-trivial PNG with ``--screenshot``."""
    target = tmp_path / "page.png"
    shot = ("--window-size=1280,800", f"--screenshot={target}")
    browse(studio, path, tmp_path / "profile", *shot, **params)
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
