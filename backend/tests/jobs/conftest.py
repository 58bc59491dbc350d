"""A real job runtime (SQLite + Redis + streaq connection) installed as a worker would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.core.config import Settings
from mus.jobs.runtime import JobRuntime, install_job_runtime


@dataclass
class EventTap:
    """Subscribed to the event channel before the job runs, so nothing is missed."""

    pubsub: PubSub
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def collect(self, settle: float = 0.2) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + settle
        while asyncio.get_running_loop().time() < deadline:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
            if message:
                self.seen.append(json.loads(message["data"]))
        return self.seen

    async def types(self) -> list[str]:
        return [event["type"] for event in await self.collect()]


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[JobRuntime]:
    # The connection lives in a task of its own: fixture set-up and tear-down run in two.
    connection = StreaqConnection(settings)
    await connection.start()
    assert connection.connected, f"no streaq connection to the test Redis {settings.redis_url}"
    job_runtime = await JobRuntime.open(settings, connection)
    install_job_runtime(job_runtime)
    try:
        yield job_runtime
    finally:
        install_job_runtime(None)
        await job_runtime.close()
        await connection.close()


@pytest.fixture
async def events(settings: Settings) -> AsyncIterator[EventTap]:
    client = Redis.from_url(settings.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(settings.event_channel)
    try:
        yield EventTap(pubsub)
    finally:
        await pubsub.aclose()
        await client.aclose()
