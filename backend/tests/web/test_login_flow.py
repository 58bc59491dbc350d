"""With SECRET_KEY: the sign-in form, the key kept in the browser, media by ?token=, and the
live indicator when the api goes away and comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser_session import new_context, screenshot
from tests.web.browser_stack import BrowserStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

KEY = "correct horse battery staple"


@pytest.fixture(scope="module")
def stack(library_stack: BrowserStack) -> Iterator[BrowserStack]:
    """A second api under SECRET_KEY on the shared library (its worker does the jobs)."""
    keyed = library_stack.second_api(secret_key=KEY)
    try:
        yield keyed
    finally:
        keyed.stop()


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("Server key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_signing_in_keeps_the_key_and_plays_with_it(page: Page, stack: BrowserStack) -> None:
    page.goto(stack.base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#login-message")).to_have_text(
        "This server needs its key. Type the server's SECRET_KEY."
    )
    screenshot(page, "login")
    sign_in(page, "wrong key")
    expect(page.locator("#login-message")).to_have_text(
        "That key was refused. Type the server's SECRET_KEY."
    )
    sign_in(page, KEY)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    tune = page.locator("#track-rows tr").filter(has_text="First Light")
    expect(tune.locator(".badge")).to_have_text("Ready")
    expect(tune.locator("img.cover")).to_have_js_property("complete", True)
    assert tune.locator("img.cover").evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#live")).to_have_attribute("data-state", "up")
    page.get_by_role("button", name="Play First Light").click()
    page.wait_for_function("document.getElementById('audio').currentTime > 0.3")

    page.reload()  # the key stays in this browser
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name="Sign in")).to_be_hidden()
    page.goto(stack.base_url + "/admin")
    expect(page.locator("#worker-list li")).to_have_count(1)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_streaq_pages_ask_the_browser_for_the_key(browser: Browser, stack: BrowserStack) -> None:
    anonymous = new_context(browser)
    try:
        refused = anonymous.request.get(stack.base_url + "/admin/queue/queue")
        assert refused.status == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
    finally:
        anonymous.close()
    operator = new_context(browser, http_credentials={"username": "ops", "password": KEY})
    try:
        streaq_page = operator.new_page()
        response = streaq_page.goto(stack.base_url + "/admin/queue/workers")
        assert response is not None
        assert response.status == 200
        expect(streaq_page.get_by_role("heading", name="Active Workers")).to_be_visible()
    finally:
        operator.close()


def test_the_live_indicator_shows_the_stream_down_and_reconnects(
    page: Page, stack: BrowserStack
) -> None:
    page.goto(stack.base_url + "/")
    sign_in(page, KEY)
    live = page.locator("#live")
    expect(live).to_have_attribute("data-state", "up")
    stack.stop_api()
    expect(live).to_have_attribute("data-state", "down")
    expect(live).to_have_text("Live updates down: reconnecting…")
    screenshot(page, "live-down")
    stack.start_api()
    expect(live).to_have_attribute("data-state", "up", timeout=15_000)
    expect(live).to_have_text("Live")
