"""streaq for the operator's view: its own web UI mounted in the api, and mus's figures.

A driven adapter beside the job queue (it names streaq and knows the api's app state by
attribute only, never by import): `mus.main` mounts streaq's UI router under `/admin/queue`
and hands the api a `StreaqQueueMonitor` that reads depth, running jobs, recent results and
live workers from the broker through the api's own producer connection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any

from coredis.exceptions import RedisError as CoredisError
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.params import Depends
from streaq import TaskStatus, Worker
from streaq.constants import REDIS_GROUP, REDIS_HEALTH, REDIS_RUNNING_SET
from streaq.types import StreaqError
from streaq.ui import get_exception_formatter, get_worker
from streaq.ui import router as streaq_ui_router

from mus.adapters.queue.streaq_job_queue import PRIORITIES, StreaqConnection
from mus.application.job_queue import JobQueue
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.queue_figures import JobDurations, QueueDepth, QueueFigures, WorkerSeen

RECENT_RESULTS = 200
"""How many of the latest finished jobs the durations and failure count are taken from."""
BROKER_ERRORS = (CoredisError, StreaqError, OSError)


class StreaqQueueMonitor:
    """Reads the queue's figures through a connection the api already holds."""

    def __init__(self, connection: StreaqConnection) -> None:
        self.connection = connection

    async def figures(self) -> QueueFigures:
        """One reading of the broker; BrokerUnavailableError when it is away."""
        client = self.connection.client
        if client is None:
            raise BrokerUnavailableError("broker unavailable: the api is not connected to it")
        try:
            return await read_figures(client)
        except BROKER_ERRORS as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc


async def _waiting(client: Worker[Any], priority: str) -> int:
    """Entries of one priority's stream no consumer has claimed (acked ones are deleted)."""
    stream = client.stream_key + priority
    length = int(await client.redis.xlen(stream))
    if not length:
        return 0
    groups = await client.redis.xinfo_groups(stream)
    pending = sum(int(str(group["pending"])) for group in groups if group["name"] == REDIS_GROUP)
    return max(length - pending, 0)


async def _workers(client: Worker[Any]) -> list[WorkerSeen]:
    """Workers whose health key has not expired (each renews it while it runs)."""
    keys: list[str] = []
    cursor = 0
    while True:
        cursor, found = await client.redis.scan(
            cursor=cursor, match=client.prefix + REDIS_HEALTH + "*", count=500
        )
        keys.extend(str(key) for key in found)
        if cursor == 0:
            break
    if not keys:
        return []
    values = await client.redis.mget(keys)
    return sorted(
        (
            WorkerSeen(worker_id=key.rsplit(":", 1)[-1], summary=str(value))
            for key, value in zip(keys, values, strict=True)
            if value
        ),
        key=lambda seen: seen.worker_id,
    )


def durations_by_job(results: Sequence[Any]) -> list[JobDurations]:
    """Mean and longest run time of each job among finished results, slowest first."""
    runs: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for result in results:
        runs[result.fn_name].append((result.finish_time - result.start_time, result.success))
    figures = [
        JobDurations(
            job=job,
            runs=len(times),
            failed=sum(1 for _, success in times if not success),
            mean_ms=float(mean(ms for ms, _ in times)),
            max_ms=float(max(ms for ms, _ in times)),
        )
        for job, times in runs.items()
    ]
    return sorted(figures, key=lambda figure: figure.mean_ms, reverse=True)


async def read_figures(client: Worker[Any]) -> QueueFigures:
    """Depth per priority (highest first), running count, recent results, live workers."""
    queues = [
        QueueDepth(
            queue=name,
            waiting=await _waiting(client, name),
            delayed=int(await client.redis.zcard(client.queue_key + name)),
        )
        for name in reversed(PRIORITIES)
    ]
    running = int(await client.redis.scard(client.prefix + REDIS_RUNNING_SET))
    results = await client.get_tasks_by_status(TaskStatus.DONE, limit=RECENT_RESULTS)
    return QueueFigures(
        queues=queues,
        running=running,
        recent_finished=len(results),
        recent_failed=sum(1 for result in results if not result.success),
        durations=durations_by_job(results),
        workers=await _workers(client),
    )


def streaq_queue_monitor(job_queue: JobQueue) -> StreaqQueueMonitor | None:
    """The monitor for the api's job queue when it is streaq's (another backend: none)."""
    return StreaqQueueMonitor(job_queue) if isinstance(job_queue, StreaqConnection) else None


def _connected_client(request: Request) -> Worker[Any]:
    """streaq's UI reads through the api's producer connection, or answers 503."""
    state = getattr(request.app.state, "mus", None)
    job_queue = getattr(state, "job_queue", None)
    client = job_queue.client if isinstance(job_queue, StreaqConnection) else None
    if client is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the job queue is not connected to the broker; try again shortly",
        )
    return client


def _failure_text() -> Any:
    """mus stores a failed job's exception as its text (JSON, never pickle): show it as is."""
    return str


def mount_streaq_ui(app: FastAPI, path: str, dependencies: Sequence[Depends]) -> None:
    """streaq's own queue, task and worker pages under `path`, behind `dependencies`."""
    app.dependency_overrides[get_worker] = _connected_client
    app.dependency_overrides[get_exception_formatter] = _failure_text
    app.include_router(
        streaq_ui_router, prefix=path, dependencies=list(dependencies), include_in_schema=False
    )
