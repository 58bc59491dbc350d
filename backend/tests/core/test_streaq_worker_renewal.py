"""A live worker keeps the jobs it holds: streaq redelivers a job idle for `idle_timeout`, so
every job a worker holds, running or waiting for a free slot, must be renewed well within it.

Before: streaq renewed only running jobs, every 0.9 of the timeout. A job waiting behind a
long one was never renewed, and another consumer (or the worker's own next read) took it and
ran it a second time; a worker starved of CPU for a tenth of the timeout lost its running jobs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from coredis.exceptions import StreamConsumerGroupError
from streaq.constants import REDIS_GROUP

from mus.core.config import Settings
from mus.core.streaq_broker import RENEWALS_PER_REDELIVERY, MusWorker

IDLE_TIMEOUT = 3.0
LONG_JOB_SECONDS = IDLE_TIMEOUT * 1.5
SAMPLE_SECONDS = 0.05


async def test_every_held_job_stays_fresh_and_runs_once(settings: Settings) -> None:
    runs: Counter[str] = Counter()
    queue_name = f"renewal-{uuid.uuid4().hex[:8]}"
    producer = MusWorker(redis_url=settings.redis_url, queue_name=queue_name)
    worker = MusWorker(
        redis_url=settings.redis_url,
        queue_name=queue_name,
        concurrency=1,
        prefetch=1,  # one slot running the long job, one more job held for it
        idle_timeout=IDLE_TIMEOUT,
    )

    @worker.task(name="long")
    async def long() -> None:
        runs["long"] += 1
        await asyncio.sleep(LONG_JOB_SECONDS)

    @worker.task(name="after_it")
    async def after_it() -> None:
        runs["after_it"] += 1

    idle_seen: list[int] = []
    async with producer:
        await producer.enqueue_unsafe("long").start()
        await producer.enqueue_unsafe("after_it").start()
        streams = [producer.stream_key + priority for priority in producer.priorities]
        worker.burst = True
        running = asyncio.create_task(worker.run_async())
        async with asyncio.timeout(LONG_JOB_SECONDS + 20):
            while not running.done():
                for stream in streams:
                    try:
                        pending = await producer.redis.xpending(stream, REDIS_GROUP, "-", "+", 10)
                    except StreamConsumerGroupError:
                        continue  # the worker has not made its group yet
                    idle_seen += [entry.idle for entry in pending]  # type: ignore[union-attr]
                await asyncio.sleep(SAMPLE_SECONDS)
        await running
    assert runs == {"long": 1, "after_it": 1}
    assert idle_seen, "no job was ever seen held"
    # Renewed every 1/RENEWALS_PER_REDELIVERY of the timeout: a worker starved for most of
    # the timeout keeps its jobs. Half of it is this test's bound (the machine is shared).
    assert max(idle_seen) / 1000 < IDLE_TIMEOUT / 2, (
        f"a held job sat {max(idle_seen) / 1000:.1f}s unrenewed (redelivered after "
        f"{IDLE_TIMEOUT:g}s; renewal every {IDLE_TIMEOUT / RENEWALS_PER_REDELIVERY:.2f}s)"
    )
