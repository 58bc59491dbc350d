"""Serves the browser pages: plain HTML, CSS and ES modules checked into the package.

No build step: what is in `static/` is what the browser gets. The pages hold no data and
need no key; every figure they show comes from the API, with the key the person typed in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=PAGE_HEADERS)


async def player_page() -> FileResponse:
    """The library and the player."""
    return _page("index.html")


async def operator_page() -> FileResponse:
    """The operator's view: queue, workers, broker, watcher, parity report."""
    return _page("admin.html")


def mount_web_pages(app: FastAPI) -> None:
    """`/`, `/admin` and their assets under `/static` (revalidated, never cached blind)."""
    app.add_api_route("/", player_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/admin", operator_page, methods=["GET"], include_in_schema=False)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
