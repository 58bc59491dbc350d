"""The bench's own jobs: no work at all, or a sleep of known length, so what is measured is
the queue's cost. Worker processes of both backends register them beside mus's jobs."""

from __future__ import annotations

import asyncio
from typing import Any

from mus.application.job_catalogue import JOB_QUEUES, QueueName
from mus.jobs.registry import JobFunction


async def noop(**_kwargs: Any) -> dict[str, Any]:
    """The cheapest job there is: what is left is the queue's own cost."""
    return {}


async def pause(milliseconds: int) -> dict[str, Any]:
    """A short job of known length: the low-priority backlog and the high-priority probes."""
    await asyncio.sleep(milliseconds / 1000)
    return {}


BENCH_JOBS: dict[str, JobFunction] = {"noop": noop, "pause": pause, "probe": pause}
"""Job name -> function; `probe` is `pause` on the high-priority queue."""

BENCH_JOB_QUEUES: dict[str, QueueName] = {
    "noop": QueueName.HIGH,
    "pause": QueueName.LOW,
    "probe": QueueName.HIGH,
}


def route_bench_jobs() -> None:
    """Let this process's enqueue port route the bench jobs (the port refuses unknown names).

    Only the bench process calls it: workers never route, they run what they are given.
    """
    JOB_QUEUES.update(BENCH_JOB_QUEUES)
