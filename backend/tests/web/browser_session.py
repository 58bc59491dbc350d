"""The browser side of the tests: where Chromium is, fresh contexts, and screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM_PATH = Path(os.environ.get("MUS_CHROMIUM_PATH", "/usr/bin/chromium"))
BACKEND_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = Path(os.environ.get("MUS_TEST_ARTIFACTS", BACKEND_ROOT / "test-artifacts"))
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"
DOCS_SCREENSHOTS_ENV = "MUS_DOCS_SCREENSHOT_DIR"
"""When set (by `make screenshots`), the README's pictures are written there as well."""
VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Only the app under test answers: anything else (streaq's UI loads its CSS from a CDN) is
# refused at once, so no test waits on the network.
NOT_LOCAL = re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*")


def new_context(browser: Browser, **options: object) -> BrowserContext:
    """A fresh context (empty localStorage) that only reaches 127.0.0.1."""
    context = browser.new_context(viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    context.route(NOT_LOCAL, lambda route: route.abort())
    context.set_default_timeout(15_000)
    return context


def screenshot(page: Page, name: str, *, docs_name: str | None = None) -> Path:
    """`name`.png under the artifacts folder; with `docs_name`, also the README's picture."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path))
    docs_dir = os.environ.get(DOCS_SCREENSHOTS_ENV)
    if docs_name and docs_dir:
        Path(docs_dir).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(docs_dir) / f"{docs_name}.png"))
    return path
