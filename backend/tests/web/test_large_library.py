"""The library page at 20,000 tracks: the first rows, the next page and a search stay quick
because the page reads one page of the list API at a time. The figures are written down."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser_session import ARTIFACTS_DIR, screenshot
from tests.web.browser_stack import BrowserStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TRACKS = 20_000
FIRST_RENDER_BUDGET_MS = 2_000
PAGE_TURN_BUDGET_MS = 1_000
FIGURES_FILE = ARTIFACTS_DIR / "first-render-20000.txt"
# When the first rows of the table exist, in ms since the navigation started.
RECORD_FIRST_ROWS = """
new MutationObserver((_, observer) => {
  if (document.querySelector('#track-rows tr')) {
    window.firstRowsAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, childList: true });
"""


def insert_tracks(database: str, count: int) -> None:
    """Rows written straight into SQLite, as a fully analysed library would hold them."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (
            f"Artist {n % 700:03d}/Album {n % 31:02d}/{n:05d} Track {n}.mp3",
            f"Track {n:05d}",
            f"Artist {n % 700:03d}",
            120.0 + n % 300,
            stamp,
            stamp,
            n,
            "COMPLETE",
        )
        for n in range(count)
    ]
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO tracks (file_path, title, artist, duration, added_at, updated_at,"
            " has_cover, inode, processing_status, revision) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 0)",
            rows,
        )


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> Iterator[BrowserStack]:
    """An api (no worker, watcher or start-up scan: nothing to queue) on 20,000 rows."""
    running = BrowserStack(
        tmp_path_factory.mktemp("web-large"),
        redis_server_url,
        with_worker=False,
        extra_env={"MUS_WATCHER_ENABLED": "false", "MUS_INITIAL_SCAN_ENABLED": "false"},
    )
    try:
        running.start(flush=False)  # the api creates the tables; nothing of it is queued
        insert_tracks(str(running.database_path), TRACKS)
        yield running
    finally:
        running.stop()


def test_the_first_rows_of_20000_tracks_render_quickly(page: Page, stack: BrowserStack) -> None:
    page.add_init_script(RECORD_FIRST_ROWS)
    page.goto(stack.base_url + "/")  # a cold page: the first visit of this browser context
    expect(page.locator("#summary")).to_have_text(f"1\u2013100 of {TRACKS} tracks")
    first_render_ms = float(page.evaluate("window.firstRowsAt"))
    expect(page.locator("#track-rows tr")).to_have_count(100)

    started = page.evaluate("performance.now()")
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#page-label")).to_have_text(f"Page 2 of {TRACKS // 100}")
    page_turn_ms = float(page.evaluate("performance.now()")) - started

    started = page.evaluate("performance.now()")
    page.get_by_label("Search").fill("Track 19999")
    expect(page.locator("#summary")).to_have_text(
        "1\u20131 of 1 tracks matching \u201cTrack 19999\u201d"
    )
    search_ms = float(page.evaluate("performance.now()")) - started  # includes the 200 ms pause
    screenshot(page, "library-20000")

    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_FILE.write_text(
        f"tracks: {TRACKS}\nfirst render of /: {first_render_ms:.0f} ms\n"
        f"next page: {page_turn_ms:.0f} ms\nsearch as you type (after the 200 ms pause): "
        f"{search_ms:.0f} ms\n"
    )
    print(FIGURES_FILE.read_text())
    assert first_render_ms < FIRST_RENDER_BUDGET_MS
    assert page_turn_ms < PAGE_TURN_BUDGET_MS
