"""The streaq leg: the app's own streaq Worker (all jobs, queues as priorities), in burst mode."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Any

from streaq import TaskStatus, Worker
from streaq.task import TaskResult
from streaq.types import StreamMessage

from mus.adapters.queue.streaq_job_queue import (
    PRIORITIES,
    StreaqConnection,
    StreaqJobQueue,
    create_producer,
)
from mus.application.job_catalogue import JOB_QUEUES
from mus.application.job_queue import JobQueue, JobRequest
from mus.core.config import Settings
from mus.core.streaq_broker import WORKER_MODULE_COMMAND
from mus.worker import create_worker

from harness.queue_backend import ExecutedJob

# After a drain every executed task's result is stored; this only bounds a broken run.
RESULT_WAIT_SECONDS = 5
RESULT_READS_AT_ONCE = 20


@dataclass(frozen=True, slots=True)
class _Enqueued:
    task_id: str
    queue: str
    task: str
    kwargs: dict[str, Any]


class StreaqBackend:
    """streaq results carry no arguments or priority: the adapter notes the arguments at
    enqueue, and the priority each task was consumed at from the stream message the worker
    took it off (a hook on `Worker.run_task`), which also gives the start order."""

    name = "streaq"

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._client: Worker[Any] | None = None
        self._connection: StreaqConnection | None = None
        self._enqueued: list[_Enqueued] = []
        self._started: list[StreamMessage] = []
        self._original_enqueue: Any = None
        self._original_enqueue_many: Any = None
        self._original_run_task: Any = None

    def version(self) -> str:
        return package_version("streaq")

    def port_classes(self) -> tuple[type, ...]:
        return (StreaqConnection, StreaqJobQueue)

    async def start(self, settings: Settings) -> JobQueue:
        self._settings = settings
        self._enqueued.clear()
        self._started.clear()
        self._observe_enqueues()
        self._observe_starts()
        self._client = create_producer(settings)  # reads results; jobs go through the api's port
        await self._client.__aenter__()
        # The api's own connection object, as `uvicorn mus.main:app` holds it.
        self._connection = StreaqConnection(settings)
        await self._connection.start()
        if not self._connection.connected:
            raise RuntimeError(f"streaq leg: no broker connection at {settings.redis_url}")
        return self._connection

    def _observe_enqueues(self) -> None:
        original = StreaqJobQueue.enqueue
        self._original_enqueue = original
        log = self._enqueued

        @functools.wraps(original)
        async def noting_enqueue(port: StreaqJobQueue, task_name: str, **kwargs: Any) -> str:
            task_id = await original(port, task_name, **kwargs)
            queue = JOB_QUEUES[task_name].value
            log.append(_Enqueued(task_id, queue, task_name, dict(kwargs)))
            return task_id

        StreaqJobQueue.enqueue = noting_enqueue  # type: ignore[method-assign,assignment]

        original_many = StreaqJobQueue.enqueue_many
        self._original_enqueue_many = original_many

        @functools.wraps(original_many)
        async def noting_enqueue_many(
            port: StreaqJobQueue, jobs: Sequence[JobRequest]
        ) -> list[str]:
            task_ids = await original_many(port, jobs)
            for task_id, job in zip(task_ids, jobs, strict=True):
                queue = JOB_QUEUES[job.task_name].value
                log.append(_Enqueued(task_id, queue, job.task_name, dict(job.kwargs)))
            return task_ids

        StreaqJobQueue.enqueue_many = noting_enqueue_many  # type: ignore[method-assign,assignment]

    def _observe_starts(self) -> None:
        original = Worker.run_task
        self._original_run_task = original
        started = self._started

        @functools.wraps(original)
        async def noting_run_task(worker: Worker[Any], msg: StreamMessage) -> None:
            started.append(msg)
            await original(worker, msg)

        Worker.run_task = noting_run_task  # type: ignore[method-assign,assignment]

    def _consumed(self) -> tuple[dict[str, str], dict[str, int]]:
        """task id -> the priority its stream message came from, and -> first start index."""
        priorities: dict[str, str] = {}
        first_start: dict[str, int] = {}
        for index, msg in enumerate(self._started):
            priorities.setdefault(msg.task_id, msg.priority)
            first_start.setdefault(msg.task_id, index)
        return priorities, first_start

    @property
    def client(self) -> Worker[Any]:
        if self._client is None or self._settings is None:
            raise RuntimeError("StreaqBackend.start() was not called")
        return self._client

    async def _queued(self, priorities: Sequence[str]) -> int:
        """Queued, running (not yet acknowledged) and delayed tasks on these priorities."""
        client = self.client
        total = 0
        for priority in priorities:
            total += int(await client.redis.xlen(client.stream_key + priority))
            total += int(await client.redis.zcard(client.queue_key + priority))
        return total

    async def drain(
        self,
        queues: Sequence[str] | None = None,
        timeout_seconds: float = 60.0,
        concurrency: int | None = None,
    ) -> None:
        settings = self.settings
        wanted = [name for name in PRIORITIES if queues is None or name in queues]

        async def run() -> None:
            while await self._queued(wanted):
                worker = create_worker(settings, queues=wanted, concurrency=concurrency)
                worker.burst = True
                await worker.run_async()

        await asyncio.wait_for(run(), timeout=timeout_seconds)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("StreaqBackend.start() was not called")
        return self._settings

    def worker_process(self) -> list[str]:
        return [sys.executable, *WORKER_MODULE_COMMAND]

    async def executed_jobs(self) -> list[ExecutedJob]:
        client = self.client
        # After a drain a task has run exactly when its result is stored; result_by_id opens
        # a pub/sub subscription per call (about 0.1 s), so the finished ones are read at once.
        done = [
            entry
            for entry in self._enqueued
            if await client.status_by_id(entry.task_id) is TaskStatus.DONE
        ]
        limit = asyncio.Semaphore(RESULT_READS_AT_ONCE)
        priorities, first_start = self._consumed()

        async def result_of(entry: _Enqueued) -> ExecutedJob:
            async with limit:
                result = await client.result_by_id(entry.task_id, timeout=RESULT_WAIT_SECONDS)
            return ExecutedJob(
                # A task another process ran (fault scenarios) was not seen by the hook.
                queue=priorities.get(entry.task_id, f"{entry.queue} (not observed)"),
                task=entry.task,
                kwargs=entry.kwargs,
                success=result.success,
                outcome=_outcome(result),
                tries=result.tries,
                started=first_start.get(entry.task_id),
            )

        noted = list(await asyncio.gather(*(result_of(entry) for entry in done)))
        return noted + await self._results_of_other_processes({e.task_id for e in self._enqueued})

    async def _results_of_other_processes(self, noted: set[str]) -> list[ExecutedJob]:
        """Tasks a worker process of a fault scenario enqueued (chained jobs): their results
        carry the task name and outcome, not the arguments, which only the enqueue saw."""
        client = self.client
        prefix = client.results_key
        others = [
            key.removeprefix(prefix)
            async for key in client.redis.scan_iter(match=prefix + "*")
            if key.removeprefix(prefix) not in noted
        ]
        jobs = []
        for task_id in sorted(others):
            result = await client.result_by_id(task_id, timeout=RESULT_WAIT_SECONDS)
            jobs.append(
                ExecutedJob(
                    queue=f"{JOB_QUEUES[result.fn_name].value} (not observed)",
                    task=result.fn_name,
                    kwargs={},
                    success=result.success,
                    outcome=_outcome(result),
                    tries=result.tries,
                )
            )
        return jobs

    async def stop(self) -> None:
        if self._original_run_task is not None:
            Worker.run_task = self._original_run_task  # type: ignore[method-assign]
            self._original_run_task = None
        if self._original_enqueue is not None:
            StreaqJobQueue.enqueue = self._original_enqueue  # type: ignore[method-assign]
            self._original_enqueue = None
        if self._original_enqueue_many is not None:
            StreaqJobQueue.enqueue_many = self._original_enqueue_many  # type: ignore[method-assign]
            self._original_enqueue_many = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None


def _outcome(result: TaskResult[Any]) -> Any:
    """The return value, or the `{"error", "message"}` document mus stores for a failure."""
    return result.result if result.success else result.exception
