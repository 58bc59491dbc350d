"""The pages and their assets as the running api serves them: typed, never cached blind."""

from __future__ import annotations

import re
import urllib.request

import pytest

from mus.web.pages import STATIC_DIR

from tests.web.browser_stack import BrowserStack

TYPES = {".css": "text/css", ".js": "javascript", ".svg": "image/svg+xml"}


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        headers = {key.lower(): value for key, value in response.headers.items()}
        return int(response.status), headers, response.read().decode()


@pytest.mark.parametrize(("path", "title"), [("/", "mus: library"), ("/admin", "mus: operator")])
def test_the_pages_are_served_and_revalidated(
    library_stack: BrowserStack, path: str, title: str
) -> None:
    status, headers, body = fetch(library_stack.base_url + path)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-cache"
    assert f"<title>{title}" in body


def test_every_asset_a_page_names_is_served_with_its_type(library_stack: BrowserStack) -> None:
    """Each page's stylesheet, icon and modules, and every module those import, answer 200."""
    wanted = {"/static/mus.css", "/static/icon.svg"}
    for page in ("index.html", "admin.html"):
        html = (STATIC_DIR / page).read_text()
        wanted |= set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    for module in (STATIC_DIR / "js").glob("*.js"):
        for name in re.findall(r'from "\./([a-z_]+\.js)"', module.read_text()):
            wanted.add(f"/static/js/{name}")
    assert {
        "/static/js/player_page.js",
        "/static/js/operator_page.js",
        "/static/js/api.js",
    } <= wanted
    for path in sorted(wanted):
        status, headers, _ = fetch(library_stack.base_url + path)
        assert status == 200, path
        assert TYPES[path[path.rindex(".") :]] in headers["content-type"], path
