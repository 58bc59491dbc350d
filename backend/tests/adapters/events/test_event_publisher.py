"""Events reach subscribers of the channel as JSON; a dead broker never fails the job."""

from __future__ import annotations

import asyncio
import json
import socket

from redis.asyncio import Redis

from mus.adapters.events.event_publisher import EventPublisher, EventType


async def test_published_event_reaches_a_subscriber(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe("test-channel")
    try:
        await EventPublisher(client, "test-channel").publish(
            EventType.TRACK_DELETED, track_id=3, file_path="a.mp3"
        )
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                break
        assert message is not None
        assert json.loads(message["data"]) == {
            "type": "track_deleted",
            "track_id": 3,
            "file_path": "a.mp3",
        }
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_publishing_to_a_dead_broker_only_logs(caplog: object) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    try:
        await asyncio.wait_for(
            EventPublisher(client, "c").publish(EventType.TRACK_ADDED, track_id=1), timeout=5
        )
    finally:
        await client.aclose()
    assert "could not publish track_added event" in caplog.text  # type: ignore[attr-defined]
