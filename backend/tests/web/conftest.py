"""Fixtures of the browser tests: the distribution's Chromium driven by Playwright, a page per
test on a fresh browser context, and screenshots written where CI uploads them from."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from mus.demo.corrupt_audio import corrupt_bytes
from mus.demo.demo_library import DEMO_SPECS, create_demo_library

from tests.web.browser_session import CHROMIUM_PATH, new_context
from tests.web.browser_stack import BROKEN, PARITY_PAGE, BrowserStack, settle


@pytest.fixture(scope="package")
def chromium_path() -> Path:
    """The distribution's Chromium; missing is a clear failure, never a skip."""
    if not CHROMIUM_PATH.is_file():
        pytest.fail(
            f"the browser tests drive the distribution's Chromium at {CHROMIUM_PATH}, which is "
            "missing: install it with `make prerequisites` (apt-get install chromium) or point "
            "MUS_CHROMIUM_PATH at one",
            pytrace=False,
        )
    return CHROMIUM_PATH


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: Path) -> Iterator[Browser]:
    # small /dev/shm in containers: Chromium then keeps its shared memory in /tmp
    arguments = [
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        "--disable-dev-shm-usage",
    ]
    if os.geteuid() == 0:
        arguments.append("--no-sandbox")  # Chromium refuses to sandbox as root
    launched = playwright.chromium.launch(
        executable_path=str(chromium_path), headless=True, args=arguments
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="package")
def library_stack(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> Iterator[BrowserStack]:
    """The demo library and one corrupt file, analysed by a real worker before any test, and
    a parity page where `MUS_PARITY_REPORT_PATH` says. Shared: each test changes its own track.
    Stopped after the last browser test, so its worker never takes another test's jobs.
    """
    root = tmp_path_factory.mktemp("web-library")
    report = root / "report" / "parity.html"
    report.parent.mkdir()
    report.write_text(PARITY_PAGE)
    running = BrowserStack(
        root, redis_server_url, extra_env={"MUS_PARITY_REPORT_PATH": str(report)}
    )
    create_demo_library(running.music_dir)
    broken = running.music_dir / BROKEN
    broken.parent.mkdir(parents=True)
    broken.write_bytes(corrupt_bytes(BROKEN, "mp3"))
    try:
        running.start()
        expected = {spec.relative_path: "COMPLETE" for spec in DEMO_SPECS}
        settle(running, {**expected, BROKEN: "ERROR"})
        yield running
    finally:
        running.stop()
