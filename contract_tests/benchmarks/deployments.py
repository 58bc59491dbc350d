"""Each backend as it is deployed: its worker processes, its enqueue port, its result store.

arq (the baseline): one `arq` worker process per queue, max_jobs 10 each, the api enqueueing
through `ArqJobQueue`. streaq: `MUS_WORKER_PROCESSES` (default: the number of cores)
processes of `python -m streaq run mus.worker:worker`, concurrency
`MUS_WORKER_CONCURRENCY` each, the api enqueueing through `StreaqConnection`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Any, Protocol

import redis.asyncio as aioredis
from arq.constants import health_check_key_suffix, in_progress_key_prefix, result_key_prefix
from streaq.constants import REDIS_HEALTH, REDIS_PREFIX, REDIS_RESULT, REDIS_RUNNING_SET

from benchmarks.streaq_bench_worker import WORKER_TARGET as STREAQ_BENCH_TARGET
from mus.adapters.queue.streaq_job_queue import open_job_queue
from mus.application.job_catalogue import QUEUES_BY_PRIORITY
from mus.application.job_queue import JobQueue
from mus.core.config import Settings
from mus.core.streaq_broker import QUEUE_NAME, WORKER_MODULE_COMMAND, WORKER_TARGET

from harness.arq_wiring import MAX_JOBS, ArqJobQueue, arq_queue_key, open_arq_pool

READ_CHUNK = 500
# streaq's key layout: results and worker health keys under its queue's prefix.
STREAQ_PREFIX = REDIS_PREFIX + QUEUE_NAME
STREAQ_RESULTS = STREAQ_PREFIX + REDIS_RESULT
STREAQ_HEALTH = f"{STREAQ_PREFIX}{REDIS_HEALTH}:"
STREAQ_RUNNING = STREAQ_PREFIX + REDIS_RUNNING_SET


@dataclass(frozen=True, slots=True)
class JobTimes:
    """One finished job's times from the backend's own result store, epoch milliseconds."""

    enqueued_ms: float
    started_ms: float
    finished_ms: float


class Deployment(Protocol):
    """What the bench needs of a backend; nothing here runs a job in the bench's process."""

    name: str

    def version(self) -> str: ...

    def describe(self) -> str:
        """Processes and concurrency, for the header."""
        ...

    def worker_argvs(self, *, bench_jobs: bool) -> list[list[str]]:
        """One argv per worker process; `bench_jobs` adds the bench's no-op and pause jobs."""
        ...

    def api_target(self) -> str:
        """The ASGI app uvicorn serves for this backend."""
        ...

    def open_port(self, settings: Settings) -> AbstractAsyncContextManager[JobQueue]:
        """The enqueue port the api holds on this backend."""
        ...

    async def workers_ready(self, broker: aioredis.Redis, processes: int) -> bool:
        """Whether every worker process has started polling (each writes a health key)."""
        ...

    async def running(self, broker: aioredis.Redis) -> int:
        """Jobs a worker has started and not finished, by the backend's own bookkeeping."""
        ...

    def result_key(self, job_id: str) -> str: ...

    async def times(self, broker: aioredis.Redis, job_ids: Sequence[str]) -> list[JobTimes]:
        """Enqueue, start and finish of finished jobs, read from the result store."""
        ...


async def _read_json(broker: aioredis.Redis, keys: Sequence[str]) -> list[Any]:
    values: list[Any] = []
    for start in range(0, len(keys), READ_CHUNK):
        values += await broker.mget(keys[start : start + READ_CHUNK])
    return values


class ArqDeployment:
    """The baseline as it ran in production: three `arq` processes, one per queue."""

    name = "arq"

    def version(self) -> str:
        return package_version("arq")

    def describe(self) -> str:
        return f"{len(QUEUES_BY_PRIORITY)} processes (one per queue) x max_jobs {MAX_JOBS}"

    def worker_argvs(self, *, bench_jobs: bool) -> list[list[str]]:
        # One module for both: the bench's jobs beside the baseline's cost nothing unused.
        del bench_jobs
        return [
            [sys.executable, "-m", "benchmarks.arq_bench_worker", queue.value]
            for queue in QUEUES_BY_PRIORITY
        ]

    def api_target(self) -> str:
        return "benchmarks.arq_bench_api:app"

    @asynccontextmanager
    async def _port(self, settings: Settings) -> AsyncIterator[JobQueue]:
        pool = open_arq_pool(settings)
        try:
            yield ArqJobQueue(pool)
        finally:
            await pool.aclose()

    def open_port(self, settings: Settings) -> AbstractAsyncContextManager[JobQueue]:
        return self._port(settings)

    async def workers_ready(self, broker: aioredis.Redis, processes: int) -> bool:
        keys = [
            arq_queue_key(queue.value) + health_check_key_suffix for queue in QUEUES_BY_PRIORITY
        ]
        return int(await broker.exists(*keys)) == len(keys)

    async def running(self, broker: aioredis.Redis) -> int:
        return len([key async for key in broker.scan_iter(match=in_progress_key_prefix + "*")])

    def result_key(self, job_id: str) -> str:
        return result_key_prefix + job_id

    async def times(self, broker: aioredis.Redis, job_ids: Sequence[str]) -> list[JobTimes]:
        # arq's JSON result document (our serializer): "et", "st", "ft" in epoch ms.
        raws = await _read_json(broker, [self.result_key(job_id) for job_id in job_ids])
        documents = [json.loads(raw) for raw in raws if raw is not None]
        return [JobTimes(float(d["et"]), float(d["st"]), float(d["ft"])) for d in documents]


class StreaqDeployment:
    """streaq as mus deploys it: N `streaq run` processes on mus's worker."""

    name = "streaq"

    def __init__(self, settings: Settings) -> None:
        self.processes = settings.worker_processes
        self.concurrency = settings.worker_concurrency
        self.prefetch = settings.worker_prefetch

    def version(self) -> str:
        return package_version("streaq")

    def describe(self) -> str:
        return (
            f"{self.processes} processes (MUS_WORKER_PROCESSES) x concurrency "
            f"{self.concurrency} (MUS_WORKER_CONCURRENCY), prefetch {self.prefetch} "
            "(MUS_WORKER_PREFETCH), 3 priorities each"
        )

    def worker_argvs(self, *, bench_jobs: bool) -> list[list[str]]:
        command = list(WORKER_MODULE_COMMAND)
        if bench_jobs:
            command[command.index(WORKER_TARGET)] = STREAQ_BENCH_TARGET
        return [[sys.executable, *command] for _ in range(self.processes)]

    def api_target(self) -> str:
        return "mus.main:app"

    def open_port(self, settings: Settings) -> AbstractAsyncContextManager[JobQueue]:
        return open_job_queue(settings)

    async def workers_ready(self, broker: aioredis.Redis, processes: int) -> bool:
        found = [key async for key in broker.scan_iter(match=STREAQ_HEALTH + "*")]
        return len(found) >= processes

    async def running(self, broker: aioredis.Redis) -> int:
        found: int = await broker.scard(STREAQ_RUNNING)  # type: ignore[misc]
        return found

    def result_key(self, job_id: str) -> str:
        return STREAQ_RESULTS + job_id

    async def times(self, broker: aioredis.Redis, job_ids: Sequence[str]) -> list[JobTimes]:
        # streaq's result document (mus serialises it as JSON): "et", "st", "ft" in epoch ms.
        raws = await _read_json(broker, [self.result_key(job_id) for job_id in job_ids])
        documents = [json.loads(raw) for raw in raws if raw is not None]
        return [JobTimes(float(d["et"]), float(d["st"]), float(d["ft"])) for d in documents]
