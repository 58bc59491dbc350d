"""What waits on a streaq queue, read straight from Redis (no worker runs in these tests)."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from mus.adapters.queue.streaq_job_queue import create_producer
from mus.core.config import Settings


async def queued_jobs(settings: Settings, queue_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(task, kwargs) of the jobs waiting at one priority, in queue order."""
    layout = create_producer(settings)  # key names only; it never connects
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        entries = await client.xrange(layout.stream_key + queue_name)
        jobs = []
        for _entry_id, fields in entries:
            raw = await client.get(layout.task_key + fields["task_id"])
            if raw is None:  # already picked up and finished: not waiting any more
                continue
            body = json.loads(raw)
            jobs.append((body["f"], body["k"]))
        return jobs
    finally:
        await client.aclose()
