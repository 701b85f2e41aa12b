"""codex-db studio end to end: a real headless Chromium, driven by Selenium, clicks through it.

It opens the printed start URL, browses to the content table, filters and
sorts it, picks columns (remembered when coming back), pages forwards and
backwards by link and by arrow key, scrolls the wide grid sideways with its
first column pinned, downloads an export, follows a foreign key to an
organization and back, toggles the soft-deleted rows, explains a query in the
console, and (in a ``--write`` studio) edits a row through the form and a
cell inline, each through the SQL preview and the confirm button. Screenshots of the main views go
to ``$CODEX_DB_STUDIO_SCREENSHOTS`` when set, else to a temporary directory;
``CODEX_DB_STUDIO_SCREENSHOTS=docs/studio`` refreshes the pictures of docs/studio.md.

Needs the ``selenium`` package, Debian's ``chromium`` and ``chromium-driver``
(``/usr/bin/chromedriver``); skipped without them. Selenium Manager is never
used: the driver and browser paths are given explicitly.
"""

from __future__ import annotations

import base64
import csv
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

pytest.importorskip("selenium", reason="needs selenium (pip install selenium)")

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from codex_db.studio import StudioServer
from codex_db.testing import TestServer
from tests.test_studio import running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium"),
    pytest.mark.skipif(CHROMEDRIVER is None, reason="needs Debian's chromium-driver"),
]

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,1000",
)

NORTHWIND = "3f2b8c1e-5d4a-4c6b-9e21-7a8d0f1b2c01"
LUMEN = "9c7e4a10-2b3d-4f5e-8a6b-1c2d3e4f5a02"
FERMENTATION = "0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c04"
TOMATO = "0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c06"

# Rows as the platform makes them: better-auth users, two creator organizations,
# published / draft / archived content of the three types, one soft-deleted
# user and one soft-deleted piece of content.
SEED = f"""
INSERT INTO users (id, name, email, email_verified, image, created_at, deleted_at) VALUES
    ('usr_alice', 'Alice Martin', 'alice@northwind.example', true,
     'https://cdn.example/avatars/alice.png', '2024-11-02 09:14:00+00', NULL),
    ('usr_bruno', 'Bruno Costa', 'bruno@lumen.example', true, NULL,
     '2024-11-20 17:40:00+00', NULL),
    ('usr_chen', 'Chen Wei', 'chen.wei@example.com', false, NULL,
     '2025-01-05 08:02:00+00', NULL),
    ('usr_dana', 'Dana Ortiz', 'dana@example.com', true, NULL,
     '2024-12-12 12:00:00+00', '2025-02-01 10:00:00+00');
INSERT INTO sessions (id, expires_at, token, ip_address, user_agent, user_id) VALUES
    ('ses_01', '2030-01-01 00:00:00+00', 'tok_alice_01', '203.0.113.7', 'Firefox/133',
     'usr_alice'),
    ('ses_02', '2030-01-01 00:00:00+00', 'tok_bruno_01', '198.51.100.23', 'Safari/18',
     'usr_bruno');
INSERT INTO organizations (id, name, slug, description, website_url, owner_id, created_at) VALUES
    ('{NORTHWIND}', 'Northwind Kitchen', 'northwind-kitchen',
     'Cooking classes on video and recipes to read', 'https://northwind.example',
     'usr_alice', '2024-11-02 09:20:00+00'),
    ('{LUMEN}', 'Lumen Audio', 'lumen-audio', 'Podcasts and field recordings',
     'https://lumen.example', 'usr_bruno', '2024-11-21 08:00:00+00');
INSERT INTO media_items (id, creator_id, title, media_type, status, r2_key, file_size_bytes,
                         mime_type, duration_seconds, width, height, uploaded_at) VALUES
    ('6a0f3e2d-1c4b-4a59-8e7d-000000000e01', 'usr_alice', 'knife-skills.mp4',
     'video', 'ready', 'media/usr_alice/knife-skills.mp4', 734003200, 'video/mp4', 1260,
     1920, 1080, '2025-01-10 10:00:00+00');
INSERT INTO media_items (id, creator_id, title, media_type, status, r2_key, file_size_bytes,
                         mime_type, duration_seconds, uploaded_at) VALUES
    ('6a0f3e2d-1c4b-4a59-8e7d-000000000e02', 'usr_bruno', 'rain-on-a-tin-roof.flac',
     'audio', 'ready', 'media/usr_bruno/rain.flac', 98566144, 'audio/flac', 2712,
     '2025-01-18 21:30:00+00');
INSERT INTO content (id, creator_id, organization_id, media_item_id, title, slug, description,
                     content_type, content_body, category, tags, visibility, price_cents,
                     status, published_at, view_count, purchase_count, created_at,
                     deleted_at) VALUES
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c01', 'usr_alice', '{NORTHWIND}',
     '6a0f3e2d-1c4b-4a59-8e7d-000000000e01', 'Knife skills 101', 'knife-skills-101',
     'Hold, sharpen and use a chef''s knife', 'video', NULL, 'cooking',
     '["basics", "knives"]', 'public', 0, 'published', '2025-01-14 09:00:00+00', 1840, 0,
     '2025-01-10 10:05:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c02', 'usr_alice', '{NORTHWIND}', NULL,
     'Sourdough from scratch', 'sourdough-from-scratch', 'A week with a starter', 'video',
     NULL, 'baking', '["bread"]', 'purchased_only', 1200, 'published',
     '2025-02-03 09:00:00+00', 655, 48, '2025-01-25 16:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c03', 'usr_alice', '{NORTHWIND}', NULL,
     'Weeknight ramen', 'weeknight-ramen', 'Broth in 40 minutes', 'written',
     E'Start with the broth.\\nThen the tare.', 'cooking', '["noodles", "quick"]',
     'public', NULL, 'published', '2025-02-20 18:30:00+00', 921, 0,
     '2025-02-18 11:00:00+00', NULL),
    ('{FERMENTATION}', 'usr_alice', '{NORTHWIND}', NULL,
     'Fermentation field guide', 'fermentation-field-guide', 'Kimchi, kraut and kefir',
     'written', E'Salt, time and patience.\\n\\n1. Weigh the cabbage.\\n2. Salt it (2%).',
     'cooking', '["fermentation"]', 'members_only', NULL, 'draft', NULL, 0, 0,
     '2025-03-02 08:45:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c05', 'usr_alice', '{NORTHWIND}', NULL,
     'Holiday menu planner', 'holiday-menu-planner', 'Six courses, one oven', 'written',
     NULL, 'planning', '[]', 'purchased_only', 500, 'archived', '2024-12-01 09:00:00+00',
     310, 22, '2024-11-25 09:00:00+00', NULL),
    ('{TOMATO}', 'usr_alice', '{NORTHWIND}', NULL,
     'Tomato season', 'tomato-season', 'Ten ways with ripe tomatoes', 'written', NULL,
     'cooking', '["summer"]', 'public', NULL, 'published', '2024-08-15 09:00:00+00', 77, 0,
     '2024-08-10 09:00:00+00', '2025-01-30 14:00:00+00'),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c07', 'usr_bruno', '{LUMEN}',
     '6a0f3e2d-1c4b-4a59-8e7d-000000000e02', 'Rain on a tin roof', 'rain-on-a-tin-roof',
     'Forty-five minutes of rain', 'audio', NULL, 'ambient', '["sleep", "rain"]', 'public',
     NULL, 'published', '2025-01-19 07:00:00+00', 4120, 0, '2025-01-18 22:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c08', 'usr_bruno', '{LUMEN}', NULL,
     'Founders'' stories, ep. 1', 'founders-stories-1', 'How Lumen started', 'audio', NULL,
     'podcast', '["interview"]', 'purchased_only', 300, 'published',
     '2025-02-07 06:00:00+00', 512, 37, '2025-02-05 12:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c09', 'usr_bruno', '{LUMEN}', NULL,
     'Founders'' stories, ep. 2', 'founders-stories-2', 'The first hundred listeners',
     'audio', NULL, 'podcast', '["interview"]', 'purchased_only', 300, 'draft', NULL, 0, 0,
     '2025-03-01 12:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c10', 'usr_bruno', '{LUMEN}', NULL,
     'Mixing voices for podcasts', 'mixing-voices', 'EQ, compression, loudness', 'video',
     NULL, 'production', '["mixing"]', 'members_only', NULL, 'published',
     '2025-02-25 06:00:00+00', 268, 0, '2025-02-22 12:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c11', 'usr_chen', NULL, NULL,
     'Trail running log', 'trail-running-log', 'Notes from the hills', 'written', NULL,
     'outdoors', '["running"]', 'public', NULL, 'published', '2025-02-11 19:00:00+00', 143,
     0, '2025-02-10 19:00:00+00', NULL),
    ('0b1e7d2a-6c3f-4a58-9d10-4e5f6a7b8c12', 'usr_chen', NULL, NULL,
     'Gear review: winter shoes', 'gear-review-winter-shoes', NULL, 'written', NULL,
     'outdoors', '[]', 'public', NULL, 'draft', NULL, 0, 0, '2025-03-03 07:00:00+00', NULL);
-- As if the rows had lived a while: updated_at after created_at (the
-- set_updated_at triggers would stamp the current time, so they are off here).
SET session_replication_role = replica;
UPDATE users SET updated_at = created_at + interval '3 days';
UPDATE organizations SET updated_at = created_at + interval '1 day';
UPDATE media_items SET updated_at = uploaded_at, created_at = uploaded_at - interval '5 minutes';
UPDATE content SET updated_at = coalesce(published_at, created_at + interval '1 hour');
SET session_replication_role = DEFAULT;
-- A row-level security policy, for the schema page (the studio's own pages run as the
-- owner, and the console's reader role reads no accounts anyway).
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_own_rows ON accounts FOR SELECT TO PUBLIC
    USING (user_id = current_setting('app.user_id', true));
"""

SHOWN_URL = "postgresql://postgres@127.0.0.1:5432/codex"
CONTENT_ROWS = 12
PUBLISHED = [  # visible published content, newest first
    "Mixing voices for podcasts",
    "Weeknight ramen",
    "Trail running log",
    "Founders' stories, ep. 1",
    "Sourdough from scratch",
    "Rain on a tin roof",
    "Knife skills 101",
]
NORTHWIND_VISIBLE = 5  # its content, without the soft-deleted "Tomato season"


def seeded_db(pg_server: TestServer, template: str) -> str:
    """A new migrated database holding `SEED`; returns its name."""
    name = pg_server.create_database(template=template)
    with psycopg.connect(pg_server.database_url(name)) as conn:
        conn.execute(SEED)
    return name


@pytest.fixture(scope="module")
def db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """The seeded database of the read-only tests."""
    name = seeded_db(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def studio(db_url: str) -> Iterator[StudioServer]:
    """A read-only studio, as ``codex-db studio`` starts by default."""
    with running(db_url) as server:
        yield server


@pytest.fixture
def write_db_url(pg_server: TestServer, migrated_template: str) -> Iterator[str]:
    """A seeded database of its own for the test that commits an edit."""
    name = seeded_db(pg_server, migrated_template)
    yield pg_server.database_url(name)
    pg_server.drop_database(name)


@pytest.fixture
def write_studio(write_db_url: str) -> Iterator[StudioServer]:
    """A studio started with ``--write``."""
    with running(write_db_url, write=True) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, quit at the end."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$CODEX_DB_STUDIO_SCREENSHOTS``, else a temporary directory."""
    folder = Path(os.environ.get("CODEX_DB_STUDIO_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver: webdriver.Chrome, folder: Path, name: str, down_to: str = "main") -> Path:
    """Save the page, from the top to the bottom of *down_to* (CSS), as ``studio-<name>.png``.

    The header's database URL (a random database on a temporary socket) is shown
    as a fixed one, so refreshed pictures only change when the pages do.
    """
    driver.execute_script(
        "document.querySelector('header .db').textContent = arguments[0]", SHOWN_URL
    )
    bottom = driver.execute_script(
        "return arguments[0].getBoundingClientRect().bottom + window.scrollY",
        driver.find_element(By.CSS_SELECTOR, down_to),
    )
    width = driver.execute_script("return document.documentElement.clientWidth")
    clip = {"x": 0, "y": 0, "width": width, "height": int(bottom) + 4, "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
    )
    target = folder / f"studio-{name}.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    return target


def heading(driver: webdriver.Chrome) -> str:
    """The page's ``<h1>``."""
    return driver.find_element(By.TAG_NAME, "h1").text


def leave_and_wait(driver: webdriver.Chrome, action: Callable[[], object]) -> None:
    """Run *action* (a click, a key, a ``get``) and wait until the page it leads to has loaded.

    The current document is marked first: the next one is loaded when the mark
    is gone and its ``readyState`` is complete. Errors of the moment between the
    two documents (detached nodes, no execution context) are waited out.
    """
    driver.execute_script("window.codexOldPage = true")
    action()
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.codexOldPage === undefined && document.readyState === 'complete'"
        )
    )


def click_and_wait(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click a link or button and wait until the page it leads to has loaded."""
    leave_and_wait(driver, element.click)


def link(driver: webdriver.Chrome, text: str) -> WebElement:
    """The link showing exactly *text*."""
    return driver.find_element(By.LINK_TEXT, text)


def button(driver: webdriver.Chrome, text: str) -> WebElement:
    """The button labelled *text*."""
    return driver.find_element(By.XPATH, f'//button[normalize-space()="{text}"]')


def go(driver: webdriver.Chrome, server: StudioServer, path: str) -> None:
    """Open *path* of the studio directly (the browser holds the cookie already)."""
    leave_and_wait(driver, lambda: driver.get(server.guard.origin + path))


def headers(driver: webdriver.Chrome) -> list[str]:
    """The column names of the rows grid (not the row-link column)."""
    table = driver.find_element(By.CSS_SELECTOR, "table.rows")
    return [th.text.rstrip(" ▲▼") for th in table.find_elements(By.CSS_SELECTOR, "th a")]


def press(driver: webdriver.Chrome, key: str) -> None:
    """Press *key* on the page (nothing focused) and wait for the page it leads to."""
    driver.execute_script("document.activeElement.blur()")
    leave_and_wait(driver, ActionChains(driver).send_keys(key).perform)


def matching(driver: webdriver.Chrome) -> str:
    """The toolbar's "N matching rows" text."""
    return driver.find_element(By.XPATH, '//p[contains(., "matching row")]').text.split(" · ")[0]


def column(driver: webdriver.Chrome, name: str) -> list[str]:
    """The values of column *name* in the rows table, top to bottom."""
    table = driver.find_element(By.CSS_SELECTOR, "table.rows")
    headers = [th.text.rstrip(" ▲▼") for th in table.find_elements(By.CSS_SELECTOR, "tr th")]
    index = headers.index(name) + 1
    return [td.text for td in table.find_elements(By.CSS_SELECTOR, f"tr td:nth-child({index})")]


def add_filter(driver: webdriver.Chrome, name: str, op: str, value: str = "") -> None:
    """Fill the empty filter row (column, operator, value) and press apply."""
    Select(driver.find_elements(By.CSS_SELECTOR, "form.filters [name=fc]")[-1]).select_by_value(
        name
    )
    Select(
        driver.find_elements(By.CSS_SELECTOR, "form.filters [name=fo]")[-1]
    ).select_by_visible_text(op)
    field = driver.find_elements(By.CSS_SELECTOR, "form.filters [name=fv]")[-1]
    field.clear()
    field.send_keys(value)
    click_and_wait(driver, button(driver, "apply"))


def open_studio(driver: webdriver.Chrome, server: StudioServer) -> None:
    """Open the printed start URL, as the user does, forgetting any columns picked before."""
    driver.get(server.start_url)
    WebDriverWait(driver, 15).until(lambda d: heading(d) == "Tables")
    driver.execute_script("window.localStorage.clear()")


def test_start_url_admits_browser_and_lists_tables(
    browser: webdriver.Chrome, studio: StudioServer, shots: Path
) -> None:
    """The token becomes an HttpOnly cookie, leaves the address bar, and the tables are listed."""
    open_studio(browser, studio)
    assert "token" not in browser.current_url
    cookie = browser.get_cookie(studio.guard.cookie_name)
    assert cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Strict"
    rows = {
        tr.find_element(By.TAG_NAME, "a").text: [
            td.text for td in tr.find_elements(By.TAG_NAME, "td")
        ]
        for tr in browser.find_elements(By.XPATH, "//table//tr[td]")
    }
    assert rows["content"][2] == str(CONTENT_ROWS) and rows["content"][3] == "yes"
    assert rows["users"][2] == "4" and rows["organizations"][4] == "id"
    assert "read-only" in browser.find_element(By.TAG_NAME, "header").text
    screenshot(browser, shots, "tables")


def test_browse_filter_and_sort_content(
    browser: webdriver.Chrome, studio: StudioServer, shots: Path
) -> None:
    """From the table list to content; filter on status, sort by publication date."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    assert heading(browser) == "content (table)"
    assert matching(browser) == f"{CONTENT_ROWS - 1} matching rows"  # the deleted one hidden
    add_filter(browser, "status", "=", "published")
    assert matching(browser) == f"{len(PUBLISHED)} matching rows"
    assert set(column(browser, "status")) == {"published"}
    click_and_wait(browser, link(browser, "published_at"))  # ascending
    click_and_wait(browser, link(browser, "published_at ▲"))  # descending
    assert column(browser, "title") == PUBLISHED
    assert "fv=published" in browser.current_url and "dir=desc" in browser.current_url
    screenshot(browser, shots, "content", down_to="div.grid")


def test_follow_relation_to_organization_and_back(
    browser: webdriver.Chrome, studio: StudioServer, shots: Path
) -> None:
    """A content row's organization_id links to the organization, which lists its content."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    add_filter(browser, "title", "contains", "knife")
    assert column(browser, "title") == ["Knife skills 101"]
    click_and_wait(browser, link(browser, NORTHWIND))
    assert heading(browser) == f"organizations {NORTHWIND}"
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Northwind Kitchen" in page and "Referenced by" in page
    assert "review update" not in page  # read-only: no edit form
    titles = column(browser, "title")  # the first rows table: content of this organization
    assert len(titles) == NORTHWIND_VISIBLE and "Tomato season" not in titles
    screenshot(browser, shots, "organization")
    click_and_wait(browser, link(browser, f"all {NORTHWIND_VISIBLE} in content"))
    assert matching(browser) == f"{NORTHWIND_VISIBLE} matching rows"
    click_and_wait(browser, link(browser, "usr_alice"))  # creator_id of the first row
    assert heading(browser) == "users usr_alice"
    assert "alice@northwind.example" in browser.find_element(By.TAG_NAME, "main").text


def test_toggle_soft_deleted_rows(browser: webdriver.Chrome, studio: StudioServer) -> None:
    """Deleted rows are hidden, then shown with the others (marked), then shown alone."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    assert "Tomato season" not in column(browser, "title")
    click_and_wait(browser, link(browser, "show deleted"))
    assert matching(browser) == f"{CONTENT_ROWS} matching rows"
    marked = browser.find_elements(By.CSS_SELECTOR, "tr.deleted")
    assert len(marked) == 1 and "Tomato season" in marked[0].text
    click_and_wait(browser, link(browser, "only deleted"))
    assert column(browser, "title") == ["Tomato season"]
    click_and_wait(browser, link(browser, "open"))
    assert heading(browser) == f"content {TOMATO}"
    assert "This row is soft-deleted." in browser.find_element(By.TAG_NAME, "main").text
    click_and_wait(browser, link(browser, "Tables"))
    click_and_wait(browser, link(browser, "content"))
    assert matching(browser) == f"{CONTENT_ROWS - 1} matching rows"  # back to hidden


def test_edit_row_with_preview_and_confirm(
    browser: webdriver.Chrome, write_studio: StudioServer, write_db_url: str, shots: Path
) -> None:
    """With --write: change a draft in the form, read the UPDATE, run it, see the new values."""
    open_studio(browser, write_studio)
    assert "write" in browser.find_element(By.CSS_SELECTOR, "header .mode").text
    click_and_wait(browser, link(browser, "content"))
    add_filter(browser, "status", "=", "draft")
    add_filter(browser, "title", "contains", "fermentation")
    click_and_wait(browser, link(browser, "open"))
    assert heading(browser) == f"content {FERMENTATION}"

    for name, value in (("status", "published"), ("price_cents", "900")):
        field = browser.find_element(By.NAME, f"v.{name}")
        field.clear()
        field.send_keys(value)
    browser.find_element(By.NAME, "n.price_cents").click()  # untick "null"
    published_at = browser.find_element(By.NAME, "v.published_at")
    published_at.send_keys("2025-03-10 09:00:00+00")
    browser.find_element(By.NAME, "n.published_at").click()
    click_and_wait(browser, button(browser, "review update…"))

    assert heading(browser) == "Confirm update on content"
    sql_text = browser.find_element(By.CSS_SELECTOR, "pre.sql").text
    assert sql_text == (
        'UPDATE "public"."content" SET "price_cents" = \'900\', "status" = \'published\', '
        f"\"published_at\" = '2025-03-10 09:00:00+00' WHERE \"id\" = '{FERMENTATION}' "
        'RETURNING "id"::text'
    )
    with psycopg.connect(write_db_url) as conn:  # nothing written yet
        assert conn.execute(
            "SELECT status FROM content WHERE id = %s", (FERMENTATION,)
        ).fetchall() == [("draft",)]
    screenshot(browser, shots, "edit-preview")

    click_and_wait(browser, button(browser, "run it"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Row updated." in main
    values = {
        tr.find_elements(By.TAG_NAME, "td")[0].text: tr.find_elements(By.TAG_NAME, "td")[2].text
        for tr in browser.find_elements(By.XPATH, "(//table)[1]//tr[td]")
    }
    assert values["status"] == "published" and values["price_cents"] == "900"
    assert values["published_at"] == "2025-03-10 09:00:00+00"
    with psycopg.connect(write_db_url) as conn:
        row = conn.execute(
            "SELECT status, price_cents, content_body, updated_at > created_at FROM content"
            " WHERE id = %s",
            (FERMENTATION,),
        ).fetchone()
    body = "Salt, time and patience.\n\n1. Weigh the cabbage.\n2. Salt it (2%)."
    assert row == ("published", 900, body, True)  # the textarea round-trips unchanged


def test_column_picker_is_remembered_per_table(
    browser: webdriver.Chrome, studio: StudioServer
) -> None:
    """Pick three columns, leave, come back: the same three; "all" brings every column back."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    every = headers(browser)
    assert len(every) == 21
    browser.find_element(By.CSS_SELECTOR, "details.columns summary").click()
    for box in browser.find_elements(By.CSS_SELECTOR, "form.columns input[name=col]"):
        if box.is_selected() != (box.get_attribute("value") in ("title", "status", "price_cents")):
            box.click()
    click_and_wait(browser, button(browser, "show these columns"))
    assert headers(browser) == ["title", "price_cents", "status"]
    click_and_wait(browser, link(browser, "status"))  # sorting keeps the columns
    assert headers(browser) == ["title", "price_cents", "status"]
    click_and_wait(browser, link(browser, "Tables"))
    click_and_wait(browser, link(browser, "content"))  # a plain link: the script restores them
    WebDriverWait(browser, 15).until(lambda d: "col=" in d.current_url)
    assert headers(browser) == ["title", "price_cents", "status"]
    go(browser, studio, "/t/users")  # another table keeps its own
    assert len(headers(browser)) > 3
    go(browser, studio, "/t/content")
    WebDriverWait(browser, 15).until(lambda d: "col=" in d.current_url)
    browser.find_element(By.CSS_SELECTOR, "details.columns summary").click()
    click_and_wait(browser, link(browser, "all"))
    assert headers(browser) == every
    click_and_wait(browser, link(browser, "Tables"))
    click_and_wait(browser, link(browser, "content"))
    assert headers(browser) == every and "col=" not in browser.current_url


def test_pages_forwards_and_back_by_link_and_arrow_key(
    browser: webdriver.Chrome, studio: StudioServer
) -> None:
    """Four rows a page: next, next, previous, previous by link; the same by arrow keys."""
    open_studio(browser, studio)
    go(browser, studio, "/t/content?sort=title&dir=asc&limit=4")
    first = column(browser, "title")
    assert len(first) == 4 and first == sorted(first)
    click_and_wait(browser, link(browser, "next page"))
    second = column(browser, "title")
    click_and_wait(browser, link(browser, "next page"))
    third = column(browser, "title")
    assert len(third) == CONTENT_ROWS - 1 - 8 and not browser.find_elements(
        By.LINK_TEXT, "next page"
    )
    assert sorted(first + second + third) == first + second + third
    click_and_wait(browser, link(browser, "previous page"))
    assert column(browser, "title") == second
    click_and_wait(browser, link(browser, "previous page"))
    assert column(browser, "title") == first
    assert not browser.find_elements(By.LINK_TEXT, "previous page")
    press(browser, Keys.ARROW_RIGHT)
    assert column(browser, "title") == second
    press(browser, Keys.ARROW_RIGHT)
    assert column(browser, "title") == third
    press(browser, Keys.ARROW_LEFT)
    assert column(browser, "title") == second
    browser.execute_script("document.activeElement.blur()")
    ActionChains(browser).send_keys("/").perform()
    focused = browser.switch_to.active_element
    assert focused.get_attribute("name") == "fv" and focused.get_attribute("value") == ""


def test_wide_grid_scrolls_with_the_first_column_pinned(
    browser: webdriver.Chrome, studio: StudioServer, shots: Path
) -> None:
    """At 1400 px the 21 columns overflow: scrolled right, the key column stays in view."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    grid = browser.find_element(By.CSS_SELECTOR, "div.grid")
    assert browser.execute_script("return arguments[0].scrollWidth", grid) > 1400
    browser.execute_script("arguments[0].scrollLeft = arguments[0].scrollWidth", grid)
    box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", grid)
    ids = browser.find_elements(By.CSS_SELECTOR, "table.rows td.pin2")
    opens = browser.find_elements(By.CSS_SELECTOR, "table.rows td.open")
    last = browser.find_elements(By.CSS_SELECTOR, "table.rows thead th")[-1]
    rect = "return arguments[0].getBoundingClientRect().toJSON()"
    open_box = browser.execute_script(rect, opens[0])
    id_box = browser.execute_script(rect, ids[0])
    last_box = browser.execute_script(rect, last)
    assert abs(open_box["left"] - box["left"]) <= 2  # pinned to the grid's left edge
    assert abs(id_box["left"] - open_box["right"]) <= 2  # the id right after the row link
    assert last_box["right"] <= box["right"] + 1 and last.text == "deleted_at"
    assert ids[0].text.count("-") == 4  # a uuid, readable over the scrolled columns
    screenshot(browser, shots, "content-wide", down_to="div.grid")


def test_export_link_downloads_the_filtered_rows(
    browser: webdriver.Chrome, studio: StudioServer, tmp_path: Path
) -> None:
    """The CSV link of a filtered page downloads those rows, every column."""
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "content"))
    add_filter(browser, "status", "=", "published")
    link(browser, "CSV").click()
    target = tmp_path / "content.csv"
    WebDriverWait(browser, 15).until(lambda d: target.exists() and target.stat().st_size > 0)
    with target.open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][:3] == ["id", "creator_id", "organization_id"] and len(rows[0]) == 21
    titles = [row[rows[0].index("title")] for row in rows[1:]]
    assert sorted(titles) == sorted(PUBLISHED)


def test_explain_analyze_shows_a_plan_tree(
    browser: webdriver.Chrome, studio: StudioServer, shots: Path
) -> None:
    """In the console, EXPLAIN ANALYZE of a join shows nested nodes with actual figures."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "SQL console"))
    browser.find_element(By.NAME, "q").send_keys(
        "SELECT c.title, o.name FROM content c JOIN organizations o ON o.id = c.organization_id\n"
        "WHERE c.status = 'published' ORDER BY c.published_at DESC"
    )
    click_and_wait(browser, button(browser, "EXPLAIN ANALYZE"))
    nodes = [n.text for n in browser.find_elements(By.CSS_SELECTOR, "ul.plan span.node")]
    assert nodes[0] == "Sort" and len(nodes) >= 4
    relations = {r.text for r in browser.find_elements(By.CSS_SELECTOR, "ul.plan span.rel")}
    assert {"content c", "organizations o"} <= relations
    figures = browser.find_element(By.CSS_SELECTOR, "ul.plan .figures").text
    assert "cost" in figures and "actual" in figures and "loops 1" in figures
    assert "execution" in browser.find_element(By.TAG_NAME, "main").text
    nested = browser.find_elements(By.CSS_SELECTOR, "ul.plan ul.plan ul.plan li")
    assert nested  # at least three levels deep
    screenshot(browser, shots, "explain")


def test_schema_view(browser: webdriver.Chrome, studio: StudioServer, shots: Path) -> None:
    """The schema page lists each table's policies, registered triggers and indexes."""
    open_studio(browser, studio)
    click_and_wait(browser, link(browser, "Schema"))
    users = browser.find_element(By.ID, "t-users").find_element(By.XPATH, "..").text
    assert "row-level security: off" in users and "Policies: none." in users
    assert "trigger_end_sessions_on_user_soft_delete" in users and "installed" in users
    assert "users_email_unique" in users
    accounts = browser.find_element(By.ID, "t-accounts").find_element(By.XPATH, "..").text
    assert "row-level security: on" in accounts
    assert "accounts_own_rows SELECT permissive public" in accounts
    assert "(user_id = current_setting('app.user_id'::text, true))" in accounts
    screenshot(browser, shots, "schema", down_to="section.schema")


def test_inline_edit_with_preview_and_confirm(
    browser: webdriver.Chrome, write_studio: StudioServer, write_db_url: str, shots: Path
) -> None:
    """With --write: double-click a cell, type, Enter: the UPDATE preview; run it: the grid."""
    open_studio(browser, write_studio)
    click_and_wait(browser, link(browser, "content"))
    add_filter(browser, "title", "contains", "fermentation")
    cell = browser.find_element(By.CSS_SELECTOR, 'td[data-col="price_cents"]')
    assert cell.text == "null"
    ActionChains(browser).double_click(cell).perform()
    field = browser.find_element(By.NAME, "v.price_cents")
    assert browser.switch_to.active_element == field
    field.send_keys("900")
    screenshot(browser, shots, "inline-edit", down_to="div.grid")
    leave_and_wait(browser, lambda: field.send_keys(Keys.ENTER))
    assert heading(browser) == "Confirm update on content"
    assert browser.find_element(By.CSS_SELECTOR, "pre.sql").text == (
        'UPDATE "public"."content" SET "price_cents" = \'900\' '
        f'WHERE "id" = \'{FERMENTATION}\' RETURNING "id"::text'
    )
    with psycopg.connect(write_db_url) as conn:  # nothing written yet
        assert conn.execute(
            "SELECT price_cents FROM content WHERE id = %s", (FERMENTATION,)
        ).fetchall() == [(None,)]
    click_and_wait(browser, button(browser, "run it"))
    assert heading(browser) == "content (table)" and "fv=fermentation" in browser.current_url
    assert "Row updated." in browser.find_element(By.TAG_NAME, "main").text
    assert column(browser, "price_cents") == ["900"]
    with psycopg.connect(write_db_url) as conn:
        assert conn.execute(
            "SELECT price_cents FROM content WHERE id = %s", (FERMENTATION,)
        ).fetchall() == [(900,)]
