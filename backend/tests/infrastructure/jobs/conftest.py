"""A real job runtime (SQLite + Redis + arq pool) installed as a worker process would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from arq import ArqRedis
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from mus.core.arq_pool import ArqJobQueue, arq_queue_key, open_arq_pool
from mus.core.config import Settings
from mus.infrastructure.jobs.job_runtime import JobRuntime, install_job_runtime


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
async def arq_pool(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = open_arq_pool(settings)
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture
async def runtime(settings: Settings, arq_pool: ArqRedis) -> AsyncIterator[JobRuntime]:
    job_runtime = await JobRuntime.open(settings, ArqJobQueue(arq_pool))
    install_job_runtime(job_runtime)
    try:
        yield job_runtime
    finally:
        install_job_runtime(None)
        await job_runtime.close()


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


async def queued_jobs(pool: ArqRedis, queue_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(function, kwargs) of the jobs waiting on one named queue, in queue order."""
    jobs = await pool.queued_jobs(queue_name=arq_queue_key(queue_name))
    return [(job.function, dict(job.kwargs)) for job in jobs]
