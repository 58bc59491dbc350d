"""The parity page in a real browser (the distribution's Chromium, driven by Playwright):
the verdict in colour, the facts a release manager signs, and a failure field by field.
Screenshots go to report/screenshots/, which CI keeps as an artifact."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness_tests.gate_inputs import repo_copy, results
from playwright.sync_api import Browser, Page, sync_playwright

from harness.cutover_gate import evaluate, recorded_scenarios, write_report
from harness.parity_results import REPORT_DIR
from harness.provenance import CONTRACT_ROOT

CHROMIUM = Path(os.environ.get("MUS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPORT_DIR / "screenshots"
GREEN, RED = "rgb(26, 127, 55)", "rgb(207, 34, 46)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the parity page is checked in Chromium, not found at {CHROMIUM}: install the "
            "distribution's package (`make prerequisites`) or set MUS_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def opened(browser: Browser, page_file: Path, screenshot: str) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot))
    page.close()


def test_a_passing_run_reads_green_with_what_was_judged(browser: Browser, tmp_path: Path) -> None:
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {})
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    _, html_path = write_report(verdict, report)
    for page in opened(browser, html_path, "parity-pass.png"):
        headline = page.locator("#verdict")
        assert headline.inner_text() == "PARITY: streaq matches every arq recording"
        assert headline.evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
        facts = page.locator("#facts").inner_text()
        for fact in ("arq run", "streaq run", "snapshots recorded", "code tree", "judged"):
            assert fact in facts, facts
        rows = page.locator("#scenarios tr")
        assert rows.count() == len(recorded_scenarios()) + 1  # and the header
        assert page.locator("#differences").count() == 0


def test_a_failing_run_reads_red_with_the_field_that_differs(
    browser: Browser, tmp_path: Path
) -> None:
    scenario = (
        "scenarios/test_priorities.py::test_scenario[file_events_overtake_an_analysis_backlog]"
    )
    report = tmp_path / "report"
    results(report, "arq", {})
    results(
        report,
        "streaq",
        {scenario: "pytest's diff"},
        differences=[["jobs[4].queue", "high_priority", "low_priority"]],
    )
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    _, html_path = write_report(verdict, report)
    for page in opened(browser, html_path, "parity-fail.png"):
        headline = page.locator("#verdict")
        assert headline.inner_text() == "NO PARITY"
        assert headline.evaluate("e => getComputedStyle(e).backgroundColor") == RED
        cells = page.locator("#differences table.diff tr").nth(1).locator("td").all_inner_texts()
        assert cells == ["jobs[4].queue", "'high_priority'", "'low_priority'"]
        problem = page.locator("#problems").inner_text()
        assert "streaq does not match the arq recording" in problem
