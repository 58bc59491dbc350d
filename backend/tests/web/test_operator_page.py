"""The operator's view at `/admin` in a real Chromium: mus's figures beside streaq's own UI."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser_session import screenshot
from tests.web.browser_stack import BrowserStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def stack(library_stack: BrowserStack) -> BrowserStack:
    return library_stack


def test_the_operator_view_lists_the_running_worker_queues_broker_and_parity(
    page: Page, stack: BrowserStack
) -> None:
    page.goto(stack.base_url + "/admin")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    workers = page.locator("#worker-list li")
    expect(workers).to_have_count(1)
    expect(workers.first).to_contain_text("worker ")
    expect(page.locator("#broker-state")).to_contain_text("Redis 7")
    expect(page.locator("#watcher-state")).to_have_text("Watching")
    expect(page.locator("#storage-state")).to_have_text("OK")
    expect(page.locator("#database-lock")).to_have_text("free")
    expect(page.locator("#music-folder")).to_contain_text("MiB free of")
    expect(page.locator("#queue-rows tr")).to_have_count(3)
    expect(page.locator("#queue-rows th")).to_have_text(
        ["high_priority", "medium_priority", "low_priority"]
    )
    statuses = [track["processing_status"] for track in stack.tracks()]
    expect(page.locator("#library-counts")).to_contain_text(
        f"{len(statuses)} tracks: {statuses.count('COMPLETE')} ready"
    )
    jobs = page.locator("#duration-rows th")
    expect(jobs.filter(has_text="process_slow_metadata")).not_to_have_count(0)
    parity = page.frame_locator("#parity-frame")
    expect(parity.get_by_role("heading")).to_have_text("Parity: streaq matches arq")
    screenshot(page, "operator", docs_name="operator")

    page.get_by_role("button", name="Show streaq's queue here").click()
    streaq = page.frame_locator("#streaq-frame")
    expect(streaq.get_by_role("link", name="Workers")).to_be_visible()

    worker_id = workers.first.inner_text().split(":", 1)[0]
    page.goto(stack.base_url + "/admin/queue/workers")
    expect(page.get_by_role("cell", name=worker_id)).to_be_visible()
    screenshot(page, "streaq-workers")
