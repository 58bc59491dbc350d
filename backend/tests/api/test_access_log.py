"""uvicorn's access log never shows a query string, so `?token=<key>` never reaches a log.

A real uvicorn with its own access logging; the lines are caught by a handler on its
access logger (which does not propagate to the root).
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import uvicorn
from api_harness import API, TEST_KEEPALIVE_SECONDS

from mus.api.access_log import redact_query
from mus.core.config import Settings
from mus.main import create_app

KEY = "s3cret-key-that-must-not-be-logged"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_the_key_in_a_query_string_is_not_logged(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(update={"secret_key": KEY}),
        sse_keepalive_seconds=TEST_KEEPALIVE_SECONDS,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", access_log=True)
    server = uvicorn.Server(config)
    caught = Lines()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caught)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}{API}") as client:
            assert (await client.get("/tracks/1/stream", params={"token": KEY})).status_code == 404
            assert (await client.get("/tracks", params={"token": KEY})).status_code == 401
            assert (await client.get("/tracks", params={"offset": 0})).status_code == 401
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        access.removeHandler(caught)
    assert len(caught.lines) == 3, caught.lines
    assert not [line for line in caught.lines if KEY in line]
    assert f"GET {API}/tracks/1/stream?… HTTP/1.1" in caught.lines[0]


def test_redact_query() -> None:
    assert redact_query("/a/b?token=x&y=1") == "/a/b?…"
    assert redact_query("/a/b") == "/a/b"
    assert redact_query("/a?") == "/a?…"
