"""The arq baseline: one arq worker per queue on the app's own jobs, run in burst mode."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Sequence
from importlib.metadata import version as package_version
from typing import Any

from arq import ArqRedis
from arq.worker import Worker

from mus.application.job_catalogue import QUEUES_BY_PRIORITY, QueueName
from mus.application.job_queue import JobQueue
from mus.core.config import Settings

from harness.arq_wiring import (
    ARQ_QUEUE_PREFIX,
    ArqJobQueue,
    arq_queue_key,
    open_arq_pool,
    worker_settings,
)
from harness.queue_backend import ExecutedJob


class ArqBackend:
    """Drains high, then medium, then low, again until all three are empty.

    The queue of each job is the one arq's own result store names (the key the worker
    consumed); the start order is noted by a hook on `Worker.run_job`, which arq calls as it
    takes a job id off its queue.
    """

    name = "arq"

    def __init__(self) -> None:
        self._pool: ArqRedis | None = None
        self._started: list[str] = []
        self._original_run_job: Any = None

    def version(self) -> str:
        return package_version("arq")

    def port_classes(self) -> tuple[type, ...]:
        return (ArqJobQueue,)

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise RuntimeError("ArqBackend.start() was not called")
        return self._pool

    async def start(self, settings: Settings) -> JobQueue:
        self._pool = open_arq_pool(settings)
        self._started.clear()
        self._observe_starts()
        return ArqJobQueue(self._pool)

    def _observe_starts(self) -> None:
        original = Worker.run_job
        self._original_run_job = original
        started = self._started

        @functools.wraps(original)
        async def noting_run_job(worker: Worker, job_id: str, score: int) -> None:
            started.append(job_id)
            await original(worker, job_id, score)

        Worker.run_job = noting_run_job  # type: ignore[method-assign,assignment]

    async def _queued(self, queues: Sequence[QueueName]) -> int:
        total = 0
        for queue in queues:
            total += int(await self.pool.zcard(arq_queue_key(queue.value)))
        return total

    async def drain(
        self,
        queues: Sequence[str] | None = None,
        timeout_seconds: float = 60.0,
        concurrency: int | None = None,
    ) -> None:
        wanted = [q for q in QUEUES_BY_PRIORITY if queues is None or q.value in queues]

        async def run() -> None:
            while await self._queued(wanted):
                for queue in wanted:
                    if not await self.pool.zcard(arq_queue_key(queue.value)):
                        continue
                    overrides: dict[str, Any] = {"max_jobs": concurrency} if concurrency else {}
                    worker = Worker(
                        **worker_settings(
                            queue, burst=True, handle_signals=False, poll_delay=0.02, **overrides
                        )
                    )
                    try:
                        await worker.main()
                    finally:
                        await worker.close()
                    break  # re-check from the highest queue: jobs chain downwards

        await asyncio.wait_for(run(), timeout=timeout_seconds)

    def worker_process(self) -> list[str]:
        return [sys.executable, "-m", "harness.arq_process"]

    async def executed_jobs(self) -> list[ExecutedJob]:
        results = await self.pool.all_job_results()
        first_start = {job_id: index for index, job_id in reversed(list(enumerate(self._started)))}
        return [
            ExecutedJob(
                queue=(result.queue_name or "").removeprefix(ARQ_QUEUE_PREFIX),
                task=result.function,
                kwargs=dict(result.kwargs),
                success=result.success,
                outcome=result.result,
                tries=result.job_try,
                started=first_start.get(result.job_id or ""),
            )
            for result in results
        ]

    async def stop(self) -> None:
        if self._original_run_job is not None:
            Worker.run_job = self._original_run_job  # type: ignore[method-assign]
            self._original_run_job = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
