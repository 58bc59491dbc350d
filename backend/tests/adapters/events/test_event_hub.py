"""One Redis subscription fanned out to bounded per-client queues, surviving reconnects."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from mus.adapters.events.event_hub import EventHub, HubEvent, Subscription, parse_event
from mus.adapters.events.event_publisher import EventPublisher, EventType


@pytest.fixture
def channel() -> str:
    return f"mus:test-hub:{uuid.uuid4().hex}"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, client_name=f"hub-test-{uuid.uuid4().hex}")
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def hub(redis_client: Redis, channel: str) -> AsyncIterator[EventHub]:
    event_hub = EventHub(redis_client, channel, client_queue_size=4, retry_initial_seconds=0.05)
    event_hub.start()
    try:
        assert await event_hub.wait_connected(5)
        yield event_hub
    finally:
        await event_hub.stop()


async def next_event(subscription: Subscription) -> HubEvent | None:
    return await asyncio.wait_for(subscription.next_event(), 5)


async def test_every_subscriber_gets_every_event(
    hub: EventHub, redis_client: Redis, channel: str
) -> None:
    publisher = EventPublisher(redis_client, channel)
    async with hub.subscribe() as first, hub.subscribe() as second:
        assert hub.subscriber_count == 2
        await publisher.publish(EventType.TRACK_ADDED, track_id=1, title="Ünïcode\nline")
        for subscription in (first, second):
            event = await next_event(subscription)
            assert event is not None
            assert event.event_type == "track_added"
            assert "\n" not in event.data
            assert json.loads(event.data) == {
                "type": "track_added",
                "track_id": 1,
                "title": "Ünïcode\nline",
            }
    assert hub.subscriber_count == 0


async def test_a_slow_client_loses_its_oldest_events_and_blocks_nobody(
    hub: EventHub, redis_client: Redis, channel: str
) -> None:
    publisher = EventPublisher(redis_client, channel)
    async with hub.subscribe() as slow, hub.subscribe() as fast:
        received: list[int] = []
        for track_id in range(10):
            await publisher.publish(EventType.TRACK_UPDATED, track_id=track_id)
            event = await next_event(fast)
            assert event is not None
            received.append(json.loads(event.data)["track_id"])
        assert received == list(range(10))
        kept = []
        for _ in range(4):
            event = await next_event(slow)
            assert event is not None
            kept.append(json.loads(event.data)["track_id"])
        assert kept == [6, 7, 8, 9]  # queue of 4: the newest survive
        assert slow.dropped == 6


async def test_messages_that_are_not_events_are_ignored(
    hub: EventHub, redis_client: Redis, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with hub.subscribe() as subscription:
        for junk in ("not json", "[1, 2]", '{"no": "type"}', '{"type": "bad type\\nevent: x"}'):
            await redis_client.publish(channel, junk)
        await redis_client.publish(channel, json.dumps({"type": "track_error", "track_id": 3}))
        event = await next_event(subscription)
        assert event is not None and event.event_type == "track_error"
    assert caplog.text.count("ignoring a message that is not a mus event") == 4


def test_parse_event() -> None:
    assert parse_event(b'{"type": "track_deleted", "track_id": 2}') == HubEvent(
        "track_deleted", '{"track_id":2,"type":"track_deleted"}'
    )
    assert parse_event(b"\xff\xfe") is None
    assert parse_event('{"type": "Track-Added"}') is None


async def test_relay_resubscribes_after_the_connection_is_killed(
    hub: EventHub, redis_client: Redis, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mus.adapters.events.event_hub")
    name = (await redis_client.client_getname()) or ""
    assert name

    async def pubsub_connection_ids() -> set[int]:
        clients = await redis_client.client_list(_type="pubsub")
        return {int(c["id"]) for c in clients if c.get("name") == name}

    (before,) = await pubsub_connection_ids()
    await redis_client.client_kill_filter(_id=str(before))
    publisher = EventPublisher(redis_client, channel)
    async with hub.subscribe() as subscription:
        received = None
        async with asyncio.timeout(5):
            while received is None:
                await publisher.publish(EventType.TRACK_ADDED, track_id=5)
                try:
                    received = await asyncio.wait_for(subscription.next_event(), 0.1)
                except TimeoutError:
                    continue
        assert received is not None and received.event_type == "track_added"
    after = await pubsub_connection_ids()
    assert after and before not in after
    assert caplog.text.count("lost the broker") == 1
    assert "resubscribed" in caplog.text


async def test_a_dead_broker_is_retried_quietly_and_stop_is_prompt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    hub = EventHub(client, "c", retry_initial_seconds=0.01, retry_max_seconds=0.02)
    hub.start()
    try:
        assert not await hub.wait_connected(0.3)
        assert not hub.connected
        async with hub.subscribe() as subscription:
            async with asyncio.timeout(2):
                await hub.stop()
            assert await next_event(subscription) is None  # the stream ends with the hub
    finally:
        await hub.stop()
        await client.aclose()
    assert caplog.text.count("lost the broker") == 1  # once per outage, not per retry


async def test_subscribing_after_shutdown_began_ends_at_once(hub: EventHub) -> None:
    hub.end_streams()
    async with hub.subscribe() as subscription:
        assert await next_event(subscription) is None
