"""The real streaq worker on a broker that refuses writes (out of memory, `noeviction`).

A Redis of the test's own is driven out of memory for real (`CONFIG SET maxmemory` below
what it holds, policy `noeviction`: every write answers "OOM command not allowed"), held
there while jobs are queued and running, then given memory again. The worker must ride it
out as it rides out a restart: no exit, no traceback flood, and every job still done.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.adapters.queue.streaq_job_queue import StreaqJobQueue, create_producer
from mus.core.config import Settings

from tests.core.test_streaq_worker_faults import (
    library,
    statuses,
    wait_for,
    worker_process,
)
from tests.own_redis import OwnRedis

OUT_OF_MEMORY_SECONDS = 12.0


async def enqueue_creations(settings: Settings, names: list[str]) -> list[str]:
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        return [await port.enqueue("handle_file_created", file_path=name) for name in names]


async def tries_of(settings: Settings, task_ids: list[str]) -> list[int]:
    """How often streaq counted each job as tried, from its own result store."""
    async with create_producer(settings) as client:
        return [(await client.result_by_id(task_id, timeout=10)).tries for task_id in task_ids]


async def test_the_worker_rides_out_a_broker_out_of_memory(
    settings: Settings, started_redis: OwnRedis, database: Database, tmp_path: Path
) -> None:
    oom_settings = settings.model_copy(update={"redis_url": started_redis.url})
    names = library(oom_settings, 24)
    log = tmp_path / "worker.log"
    with worker_process(
        oom_settings, log, MUS_WORKER_REDELIVERY_SECONDS="2", MUS_WORKER_CONCURRENCY="2"
    ) as worker:
        task_ids = await enqueue_creations(oom_settings, names)
        await wait_for(database, "any", 30, log, expected=len(names))
        started_redis.refuse_writes()  # mid-run: creations and analyses are in flight
        refused_at = time.monotonic()
        while time.monotonic() - refused_at < OUT_OF_MEMORY_SECONDS:
            assert worker.poll() is None, log.read_text(errors="replace")[-4000:]
            await asyncio.sleep(0.5)
        during = await statuses(database)
        started_redis.accept_writes()
        found = await wait_for(database, "complete", 90, log, expected=len(names))
        assert worker.poll() is None, "the worker exited on a broker out of memory"
    assert sorted(found) == names
    # Jobs the fault cut off (running, or done but not acknowledged) ran again: the fault
    # gave their try back, so every job counts one, and ten faults cannot make streaq give up.
    assert await tries_of(oom_settings, task_ids) == [1] * len(names)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]
    assert text.count("refusing writes") == 1, text[-4000:]
    assert "broker accepts writes again" in text
    assert "failed after" not in text
    print(f"\n{len(during)} of {len(names)} indexed when memory came back; all COMPLETE after")
