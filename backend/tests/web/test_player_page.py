"""The web player at `/` in a real Chromium, against the real api, worker and library."""

from __future__ import annotations

import shutil
import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.demo.demo_library import DEMO_SPECS

from tests.web.browser_session import PHONE_VIEWPORT, new_context, screenshot
from tests.web.browser_stack import BrowserStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

EN_DASH = "\u2013"  # the page writes ranges with an en dash


@pytest.fixture
def stack(library_stack: BrowserStack) -> BrowserStack:
    """The shared demo library (these tests each change a different track of it)."""
    return library_stack


def open_library(page: Page, stack: BrowserStack) -> None:
    page.goto(stack.base_url + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#live")).to_have_attribute("data-state", "up")


def row(page: Page, title: str) -> Locator:
    """The library row whose play button names `title`."""
    return page.locator("#track-rows tr").filter(
        has=page.get_by_role("button", name=f"Play {title}", exact=True)
    )


def seek_to(page: Page, seconds: float) -> None:
    """Drag the position slider to `seconds` (as its input and change events report it)."""
    page.locator("#seek").evaluate(
        "(el, to) => { el.value = String(to); el.dispatchEvent(new Event('input')); "
        "el.dispatchEvent(new Event('change')); }",
        seconds,
    )
    page.wait_for_function(
        f"Math.abs(document.getElementById('audio').currentTime - {seconds}) < 0.3"
    )


def record_statuses(page: Page, title: str) -> None:
    """From now on, every status the row of `title` shows is pushed to `window.statuses`."""
    page.evaluate(
        """(title) => {
            window.statuses = [];
            const read = () => {
                const play = document.querySelector(`button[aria-label="Play ${title}"]`);
                const badge = play?.closest('tr')?.querySelector('.badge');
                const last = window.statuses[window.statuses.length - 1];
                if (badge && badge.textContent !== last) window.statuses.push(badge.textContent);
            };
            read();
            new MutationObserver(read).observe(
                document.getElementById('track-rows'), { childList: true, subtree: true }
            );
        }""",
        title,
    )


def test_the_library_lists_every_track_with_cover_artist_duration_and_status(
    page: Page, stack: BrowserStack
) -> None:
    open_library(page, stack)
    page.keyboard.press("Tab")  # focus order starts with the way past the header
    expect(page.get_by_role("link", name="Skip to the library")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="mus")).to_be_focused()
    rows = page.locator("#track-rows tr")
    expect(rows).to_have_count(len(DEMO_SPECS) + 1)
    first_light = row(page, "First Light")
    expect(first_light.locator("td.artist")).to_have_text("Aurora Sines")
    expect(first_light.locator("td.duration")).to_have_text("0:04")
    expect(first_light.locator(".badge")).to_have_text("Ready")
    expect(first_light.locator("img.cover")).to_have_js_property("complete", True)
    assert first_light.locator("img.cover").evaluate("img => img.naturalWidth") > 0
    expect(row(page, "Bad Rip").locator(".badge")).to_have_text("Error")
    expect(page.locator("#summary")).to_have_text(
        f"1{EN_DASH}{len(DEMO_SPECS) + 1} of {len(DEMO_SPECS) + 1} tracks"
    )
    expect(page.locator("#error-count")).to_have_text("1")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')]
            .filter((el) => !el.closest('[hidden]') && !el.classList.contains('visually-hidden'))
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.textContent.trim())
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []
    screenshot(page, "library")


def test_search_as_you_type_sort_and_order(page: Page, stack: BrowserStack) -> None:
    open_library(page, stack)
    page.get_by_label("Search").press_sequentially("oscill")
    expect(page.locator("#track-rows tr")).to_have_count(3)
    expect(page.locator("#summary")).to_have_text(f"1{EN_DASH}3 of 3 tracks matching “oscill”")
    page.get_by_label("Sort by").select_option("title")
    page.get_by_role("button", name="Ascending").click()
    titles = page.locator("#track-rows tr button[data-action=play]")
    expect(titles).to_have_text(["Pines", "Moss", "Creek"])
    page.get_by_label("Search").fill("no such music")
    expect(page.locator("#summary")).to_have_text("No track matches “no such music”.")


def test_play_advances_seeks_by_range_and_is_restored_after_a_reload(
    page: Page, stack: BrowserStack
) -> None:
    ranges: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda response: (
            ranges.append((response.status, response.request.headers.get("range", "")))
            if "/stream" in response.url
            else None
        ),
    )
    open_library(page, stack)
    page.get_by_role("button", name="Play Creek", exact=True).click()
    expect(page.locator("#now-title")).to_have_text("Creek")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.wait_for_function("document.getElementById('audio').currentTime > 0.3")
    started = page.evaluate("document.getElementById('audio').currentTime")
    page.wait_for_function(f"document.getElementById('audio').currentTime > {started + 0.3}")
    page.locator("#summary").click()  # the focus leaves the row's button: keys are the player's
    page.keyboard.press("Space")  # paused, so the 5 s track cannot end and move on meanwhile
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    seek_to(page, 3.5)
    assert any(status == 206 and header.startswith("bytes=") for status, header in ranges)
    assert page.evaluate("navigator.mediaSession.metadata.title") == "Creek"
    assert page.evaluate("navigator.mediaSession.metadata.artist") == "The Oscillators"
    assert "/covers/small" in page.evaluate("navigator.mediaSession.metadata.artwork[0].src")
    page.keyboard.press("ArrowLeft")  # back 5 s, never before the start
    page.wait_for_function("document.getElementById('audio').currentTime === 0")
    page.keyboard.press("ArrowRight")  # forward 5 s: the end of this 5 s track
    page.wait_for_function("document.getElementById('audio').currentTime >= 4.9")
    seek_to(page, 2.0)
    position = page.evaluate("document.getElementById('audio').currentTime")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#volume")).to_have_value("0.95")
    creek = stack.track_titled("Creek")
    saved: dict[str, object] = {}

    def state_saved() -> bool:
        saved.update(stack.get_json("/api/v1/player/state"))
        return saved["current_track_id"] == creek["id"] and saved["volume"] == 0.95

    deadline = time.monotonic() + 5
    while not state_saved() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert saved["current_track_id"] == creek["id"]
    assert abs(float(str(saved["progress_seconds"])) - position) < 0.5
    screenshot(page, "player-playing", docs_name="player")

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#now-title")).to_have_text("Creek")
    page.wait_for_function(
        f"Math.abs(document.getElementById('audio').currentTime - {position}) < 0.5"
    )
    expect(page.locator("#volume")).to_have_value("0.95")
    page.get_by_role("button", name="Next track").click()
    expect(page.locator("#now-title")).not_to_have_text("Creek")


def test_a_file_copied_into_the_folder_appears_and_turns_ready_without_a_reload(
    page: Page, stack: BrowserStack
) -> None:
    open_library(page, stack)
    page.evaluate("window.sameDocument = true")
    spec = AudioSpec(
        "Arrivals/Copied In.mp3", "mp3", "Copied In", "Late Band", None, 2.0, CoverSpec(seed=3)
    )
    staging = stack.root / "staging"
    write_audio(spec, staging)
    target = stack.music_dir / spec.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    record_statuses(page, "Copied In")
    shutil.copyfile(staging / spec.relative_path, target)
    copied = row(page, "Copied In")
    expect(copied).to_have_count(1)
    expect(copied.locator(".badge")).to_have_text("Ready", timeout=30_000)
    # Pending while the worker analyses it (shown unless the analysis beat the page's read)
    assert page.evaluate("window.statuses") in (["Pending", "Ready"], ["Ready"])
    expect(copied.locator("img.cover")).to_have_count(1)
    assert page.evaluate("window.sameDocument") is True


def test_editing_a_title_with_rename_rewrites_the_tags_and_the_file_name(
    page: Page, stack: BrowserStack
) -> None:
    open_library(page, stack)
    page.get_by_role("button", name="Edit Dew", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit track")
    dialog.get_by_label("Title", exact=True).fill("Dew at Dawn")
    dialog.get_by_label("Also rename the file").check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text(
        "renamed to Aurora Sines/Morning Tones/Aurora Sines - Dew at Dawn.flac"
    )
    edited = row(page, "Dew at Dawn")
    expect(edited.locator(".file-path")).to_have_text(
        "Aurora Sines/Morning Tones/Aurora Sines - Dew at Dawn.flac", timeout=20_000
    )
    renamed = stack.music_dir / "Aurora Sines/Morning Tones/Aurora Sines - Dew at Dawn.flac"
    assert renamed.is_file()
    assert read_fast_metadata(renamed, stack.music_dir).title == "Dew at Dawn"


def test_an_edit_the_api_refuses_is_shown_in_words(page: Page, stack: BrowserStack) -> None:
    open_library(page, stack)
    page.get_by_role("button", name="Edit Owls", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit track")
    dialog.get_by_label("Title", exact=True).fill("   ")  # blank: the api refuses it
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator("#edit-error")).to_have_text(
        "Not saved: title: String should have at least 1 character"
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Edit Owls", exact=True)).to_be_focused()
    assert stack.track_titled("Owls")["title"] == "Owls"


def test_upload_by_picker_and_by_drop_with_progress(page: Page, stack: BrowserStack) -> None:
    open_library(page, stack)
    staging = stack.root / "uploads"
    picked = write_audio(AudioSpec("Picked_Song.ogg", "ogg", duration_seconds=2.0), staging)
    dropped = write_audio(AudioSpec("Dropped Song.wav", "wav", duration_seconds=2.0), staging)
    page.evaluate(
        """() => {
            window.progressSeen = [];
            new MutationObserver((changes) => {
                for (const change of changes) {
                    if (change.target.tagName === 'PROGRESS' && change.attributeName === 'value') {
                        window.progressSeen.push(Number(change.target.getAttribute('value')));
                    }
                }
            }).observe(document.getElementById('uploads'), { attributes: true, subtree: true });
        }"""
    )
    page.locator("#upload-input").set_input_files(str(picked))
    expect(page.locator("#uploads")).to_contain_text("Picked_Song.ogg uploaded as Picked Song.ogg")
    expect(row(page, "Picked Song").locator(".badge")).to_have_text("Ready", timeout=30_000)
    assert 1 in page.evaluate("window.progressSeen")  # the bar moved as the bytes went

    data = dropped.read_bytes()
    transfer = page.evaluate_handle(
        """([bytes, name]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'audio/wav' }));
            return transfer;
        }""",
        [list(data), dropped.name],
    )
    page.dispatch_event("main", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop-zone")).to_be_visible()
    page.dispatch_event("main", "drop", {"dataTransfer": transfer})
    expect(page.locator("#uploads")).to_contain_text(
        "Dropped Song.wav uploaded as Dropped Song.wav"
    )
    expect(row(page, "Dropped Song")).to_have_count(1, timeout=30_000)
    assert (stack.music_dir / "Dropped Song.wav").read_bytes() != b""

    fake = staging / "Not Audio.mp3"
    fake.write_bytes(b"plain text, not audio\n" * 50)
    page.locator("#upload-input").set_input_files(str(fake))
    failure = page.locator("#uploads li.failed")
    expect(failure).to_contain_text("Not Audio.mp3 was not uploaded:")
    expect(failure).to_contain_text("not usable audio")
    screenshot(page, "uploads")


def test_delete_asks_first_then_removes_the_row_and_the_file(
    page: Page, stack: BrowserStack
) -> None:
    open_library(page, stack)
    moss = stack.music_dir / "The Oscillators/Forest Hum/02 Moss.mp3"
    page.get_by_role("button", name="Delete Moss", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete track?")
    expect(dialog).to_contain_text("02 Moss.mp3")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert moss.is_file()
    page.get_by_role("button", name="Delete Moss", exact=True).click()
    dialog.get_by_role("button", name="Delete the file").click()
    expect(row(page, "Moss")).to_have_count(0, timeout=20_000)
    assert not moss.exists()


def test_the_errors_view_shows_the_message_and_requeues(page: Page, stack: BrowserStack) -> None:
    before = stack.track_titled("Bad Rip")
    page.goto(stack.base_url + "/#errors")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    card = page.locator("#error-list li").filter(has_text="Bad Rip")
    expect(card).to_contain_text("failed at")
    expect(card).to_contain_text("not an audio file (or damaged beyond reading)")
    expect(page.get_by_role("link", name="Errors")).to_have_attribute("aria-current", "page")
    screenshot(page, "errors")
    record_statuses(page, "Bad Rip")  # the library table follows the events while hidden
    card.get_by_role("button", name="Requeue Bad Rip").click()
    expect(page.locator("#notice")).to_have_text("Requeued for analysis.")

    def analysed_again() -> bool:
        after = stack.track_titled("Bad Rip")
        return after["revision"] > before["revision"] and after["processing_status"] == "ERROR"

    deadline = time.monotonic() + 20
    while not analysed_again() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert analysed_again(), "the requeued job did not run again"
    page.wait_for_function("window.statuses[window.statuses.length - 1] === 'Error'")
    assert page.evaluate("window.statuses") == ["Error", "Pending", "Error"]
    expect(card).to_have_count(1)  # the file is still broken: it failed again, and says so
    page.get_by_role("button", name="Requeue all").click()
    expect(page.locator("#notice")).to_have_text("Requeued 1 track(s) for analysis.")


CONTRAST_OF = """(selectors) => {
    const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => {
        const channel = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element) => {
        for (let node = element; node; node = node.parentElement) {
            const colour = rgb(getComputedStyle(node).backgroundColor);
            if (colour.length < 4 || colour[3] > 0) return colour;
        }
        return [255, 255, 255];
    };
    return selectors.map((selector) => {
        const element = document.querySelector(selector);
        const a = luminance(rgb(getComputedStyle(element).color));
        const b = luminance(background(element));
        return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    });
}"""


def test_text_keeps_a_contrast_of_at_least_4_5_to_1(page: Page, stack: BrowserStack) -> None:
    open_library(page, stack)
    selectors = [
        "#summary",
        ".tracks th",
        ".file-path",
        ".badge.complete",
        ".badge.error",
        "#live",
        ".views a:not([aria-current])",
        "#now-title",
        ".keys",
        "button.link",
        ".upload-button",
    ]
    ratios = dict(page.evaluate(CONTRAST_OF, selectors))
    assert {selector: ratio for selector, ratio in ratios.items() if ratio < 4.5} == {}


def test_phone_width_keeps_every_control_reachable(browser: Browser, stack: BrowserStack) -> None:
    context = new_context(browser)
    try:
        phone = context.new_page()
        phone.set_viewport_size(PHONE_VIEWPORT)
        open_library(phone, stack)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_VIEWPORT["width"]
        for name in ("Play", "Next track", "Previous track", "Volume", "Search", "Sort by"):
            expect(phone.get_by_label(name, exact=True).first).to_be_visible()
        screenshot(phone, "library-phone")
    finally:
        context.close()
