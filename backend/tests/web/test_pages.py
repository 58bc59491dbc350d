"""The pages and their assets as the api serves them: no key needed, never cached blind."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from mus.core.config import Settings
from mus.main import create_app
from mus.web.pages import STATIC_DIR


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a SECRET_KEY, unstarted: the pages need no state and no key."""
    app = create_app(settings.model_copy(update={"secret_key": "s3cret"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as started:
        yield started


@pytest.mark.parametrize(("path", "title"), [("/", "mus: library"), ("/admin", "mus: operator")])
async def test_the_pages_are_served_without_the_key(
    client: httpx.AsyncClient, path: str, title: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert f"<title>{title}" in response.text


async def test_every_asset_a_page_names_is_served_with_its_type(client: httpx.AsyncClient) -> None:
    """Each page's stylesheet, icon and modules, and every module those import, answer 200."""
    wanted = {"/static/mus.css", "/static/icon.svg"}
    for page in ("index.html", "admin.html"):
        wanted |= set(
            re.findall(r'(?:src|href)="(/static/[^"]+)"', (STATIC_DIR / page).read_text())
        )
    for module in (STATIC_DIR / "js").glob("*.js"):
        for name in re.findall(r'from "\./([a-z_]+\.js)"', module.read_text()):
            wanted.add(f"/static/js/{name}")
    types = {".css": "text/css", ".js": "javascript", ".svg": "image/svg+xml"}
    for path in sorted(wanted):
        response = await client.get(path)
        assert response.status_code == 200, path
        suffix = path[path.rindex(".") :]
        assert types[suffix] in response.headers["content-type"], path
    assert "/static/js/player_page.js" in wanted
    assert "/static/js/api.js" in wanted
