"""SSE over a real uvicorn: published events arrive, keep-alives flow, shutdown ends streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_harness import eventually, live_server

from mus.adapters.events.event_publisher import EventPublisher, EventType
from mus.core.config import Settings


async def sse_blocks(response: httpx.Response) -> AsyncIterator[str]:
    """Each blank-line-terminated SSE block, as text."""
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            yield block


async def test_published_events_reach_the_client_with_keepalives(settings: Settings) -> None:
    async with (
        live_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=5) as client,
        client.stream("GET", "/events/track-updates") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert await server.state.event_hub.wait_connected(5)
        blocks = sse_blocks(response)
        assert "retry:" in await anext(blocks)
        publisher = EventPublisher(server.state.redis, settings.event_channel)
        await publisher.publish(EventType.TRACK_DELETED, track_id=7, file_path="a b.mp3")
        seen: list[str] = []
        async with asyncio.timeout(5):
            async for block in blocks:
                seen.append(block)
                if block.startswith("event:"):
                    break
            async for block in blocks:  # then, with nothing published: a keep-alive
                seen.append(block)
                if block.startswith(": keep-alive"):
                    break
        event_block = next(block for block in seen if block.startswith("event:"))
        event_line, data_line = event_block.split("\n")
        assert event_line == "event: track_deleted"
        assert json.loads(data_line.removeprefix("data: ")) == {
            "type": "track_deleted",
            "track_id": 7,
            "file_path": "a b.mp3",
        }
        assert seen[-1] == ": keep-alive"


async def test_a_client_that_leaves_is_unsubscribed(settings: Settings) -> None:
    async with live_server(settings) as server:
        hub = server.state.event_hub
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=5) as client,
            client.stream("GET", "/events/track-updates") as response,
        ):
            await anext(response.aiter_text())
            assert hub.subscriber_count == 1

        async def unsubscribed() -> bool:
            return hub.subscriber_count == 0  # noticed at the next keep-alive write

        await eventually(unsubscribed, 5)


@pytest.fixture
def harmless_sigterm() -> Iterator[None]:
    """uvicorn re-raises the SIGTERM it handled once it stops: make that a no-op here."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("harmless_sigterm")
async def test_sigterm_ends_open_streams_so_the_server_stops_promptly(
    settings: Settings,
) -> None:
    async with live_server(settings) as server:
        client = httpx.AsyncClient(base_url=server.base_url, timeout=5)
        async with client, client.stream("GET", "/events/track-updates") as response:
            chunks = response.aiter_text()
            await anext(chunks)
            signal.raise_signal(signal.SIGTERM)
            async with asyncio.timeout(3):  # without the hook uvicorn would wait forever
                async for _ in chunks:
                    pass

        async def stopping() -> bool:
            return server.server.should_exit

        await eventually(stopping, 5)


async def test_streams_past_the_cap_are_refused_and_the_healthcheck_still_answers(
    settings: Settings,
) -> None:
    """Real connections on a real uvicorn: MUS_SSE_MAX_CONNECTIONS open, the next is 503
    with a sentence, the healthcheck answers 200 meanwhile, and a closed one frees a place."""
    capped = settings.model_copy(update={"sse_max_connections": 3})
    async with (
        live_server(capped) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=5) as client,
        contextlib.AsyncExitStack() as streams,
    ):
        opened = [
            await streams.enter_async_context(client.stream("GET", "/events/track-updates"))
            for _ in range(3)
        ]
        readers = [response.aiter_text() for response in opened]  # kept: a dropped one closes
        for response, reader in zip(opened, readers, strict=True):
            assert response.status_code == 200
            assert "retry:" in await anext(reader)
        assert server.state.event_hub.subscriber_count == 3
        refused = await client.get("/events/track-updates")
        health = await client.get("/healthcheck")
        assert refused.status_code == 503
        assert refused.json() == {
            "detail": "too many live-update connections (3 open, the most this server keeps); "
            "try again later"
        }
        assert refused.headers["retry-after"] == "30"
        assert health.status_code == 200
        await opened[0].aclose()

        async def a_place_is_free() -> bool:
            return server.state.event_hub.subscriber_count == 2  # noticed at a keep-alive

        await eventually(a_place_is_free, 5)
        async with client.stream("GET", "/events/track-updates") as again:
            assert again.status_code == 200
            assert server.state.event_hub.subscriber_count <= 3
