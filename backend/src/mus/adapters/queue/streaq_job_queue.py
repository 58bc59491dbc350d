"""The job-queue port on streaq: enqueue at the catalogue's priority, and the api's connection.

The three queues are streaq priorities of one queue. The api enqueues through a producer-only
client (no job registry, no worker lifespan) held by a task of its own, and keeps serving with
the broker down. The worker (`mus.worker`) enqueues chained jobs through the same adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from coredis.exceptions import RedisError as CoredisError
from streaq import Worker
from streaq.task import Task
from streaq.types import StreaqError

from mus.application.job_catalogue import QUEUES_BY_PRIORITY, QueueName
from mus.application.job_queue import JobQueue, JobRequest, route_job, route_jobs
from mus.core.broker_preflight import (
    BrokerRefusedError,
    BrokerUnavailableError,
    mask_url,
    refuse_unfit_broker,
)
from mus.core.broker_refusal import describe_refusal, refuses_writes
from mus.core.config import Settings
from mus.core.streaq_broker import QUEUE_NAME, from_json, root_cause, to_json

# streaq wants priorities lowest first.
PRIORITIES: tuple[str, ...] = tuple(queue.value for queue in reversed(QUEUES_BY_PRIORITY))

RETRY_SECONDS = 2.0
FIRST_ATTEMPT_SECONDS = 10.0
MIN_GAP_SECONDS = 0.5

logger = logging.getLogger(__name__)


class StreaqJobQueue:
    """`enqueue(task_name, **kwargs)` on streaq: the catalogue's queue is the task's priority."""

    def __init__(self, client: Worker[Any]) -> None:
        self.client = client

    def _task(self, task_name: str, kwargs: Mapping[str, Any], queue: QueueName) -> Task[Any, Any]:
        """The streaq task of one job at its queue's priority: built, not sent yet."""
        return self.client.enqueue_unsafe(task_name, **kwargs).start(priority=queue.value)

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        queue = route_job(task_name, kwargs)
        try:
            task = await self._task(task_name, kwargs, queue)
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return str(task.id)

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        """The batch in one pipeline (streaq's `enqueue_many`), each job at its queue's priority.

        Routed whole first. streaq's `enqueue_many` publishes each task at `task.priority`,
        which `start(priority=...)` sets without sending anything.
        """
        queues = route_jobs(jobs)
        if not jobs:
            return []
        tasks = [
            self._task(job.task_name, job.kwargs, queue)
            for job, queue in zip(jobs, queues, strict=True)
        ]
        try:
            await self.client.enqueue_many(tasks)
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return [str(task.id) for task in tasks]

    async def backlog(self) -> int:
        """Stream entries (queued, prefetched or running: acknowledged ones are deleted) and
        delayed tasks (retries), over every priority."""
        client = self.client
        try:
            async with client.redis.pipeline(transaction=False) as pipe:
                counts = [pipe.xlen(client.stream_key + name) for name in PRIORITIES]
                counts += [pipe.zcard(client.queue_key + name) for name in PRIORITIES]
            return sum([int(await count) for count in counts])
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc


def create_producer(settings: Settings) -> Worker[Any]:
    """A streaq client that only enqueues and reads results: no jobs, no lifespan, no consumer.

    streaq's documented way to separate enqueuing from task definitions; connect it with
    `async with`.
    """
    return Worker(
        redis_url=settings.redis_url,
        queue_name=QUEUE_NAME,
        priorities=list(PRIORITIES),  # a fresh list: streaq reverses the one it is given
        serializer=to_json,
        deserializer=from_json,
        handle_signals=False,
    )


class StreaqConnection:
    """A JobQueue whose broker connection is kept by a background task."""

    def __init__(self, settings: Settings, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self._settings = settings
        self._retry_seconds = retry_seconds
        self._queue: StreaqJobQueue | None = None
        self._problem = f"not connected yet to the broker at {mask_url(settings.redis_url)}"
        self._attempted = asyncio.Event()
        self._reconnect = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._queue is not None

    @property
    def client(self) -> Worker[Any] | None:
        """The connected producer client (for reading the queue), None while disconnected."""
        queue = self._queue
        return queue.client if queue is not None else None

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        route_job(task_name, kwargs)  # a wrong job is a wrong job, broker or not
        queue = self._live_queue()
        try:
            return await queue.enqueue(task_name, **kwargs)
        except BrokerUnavailableError:
            self._reconnect.set()  # reopen rather than trust a half-dead pool
            raise

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        route_jobs(jobs)  # a wrong batch is a wrong batch, broker or not
        queue = self._live_queue()
        try:
            return await queue.enqueue_many(jobs)
        except BrokerUnavailableError:
            self._reconnect.set()
            raise

    async def backlog(self) -> int:
        queue = self._live_queue()
        try:
            return await queue.backlog()
        except BrokerUnavailableError:
            self._reconnect.set()
            raise

    def _live_queue(self) -> StreaqJobQueue:
        """The connected queue; while a reconnect is pending its pool may be dead already
        (coredis then raises a bare RuntimeError), so it is refused as unavailable too."""
        queue = self._queue
        if queue is None or self._reconnect.is_set():
            self._reconnect.set()
            raise BrokerUnavailableError(f"broker unavailable: {self._problem}")
        return queue

    async def start(self, *, wait_seconds: float = FIRST_ATTEMPT_SECONDS) -> None:
        """Start the keeper and wait for its first attempt, so a healthy start is connected."""
        self._task = asyncio.create_task(self._keep(), name="streaq-connection")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds):
                await self._attempted.wait()

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _keep(self) -> None:
        while not self._stop.is_set():
            self._reconnect.clear()
            problem = await self._connect_and_hold()
            if self._stop.is_set():
                return
            if problem != self._problem:
                logger.warning("job queue unavailable: %s; retrying", problem)
            self._problem = problem
            self._attempted.set()
            await self._wait_for(self._stop, MIN_GAP_SECONDS)  # a burst of requests is one try
            await self._wait_for(self._reconnect, self._retry_seconds)

    async def _connect_and_hold(self) -> str:
        """Hold one connection until told to stop or reconnect; return why it ended."""
        url = self._settings.redis_url
        try:
            await refuse_unfit_broker(url, allow_unreachable=False)
        except BrokerRefusedError as exc:
            return str(exc)
        try:
            async with create_producer(self._settings) as client:
                self._queue = StreaqJobQueue(client)
                logger.info("job queue connected to %s", mask_url(url))
                self._attempted.set()
                try:
                    await self._wait_for(self._reconnect, None)
                finally:
                    self._queue = None
        except Exception as exc:  # coredis raises inside an anyio task group
            if refuses_writes(exc):  # out of memory: it answers, but cannot load streaq's code
                return f"the broker at {mask_url(url)} refuses writes: {describe_refusal(exc)}"
            return f"cannot connect to the broker at {mask_url(url)}: {root_cause(exc)}"
        return f"the connection to the broker at {mask_url(url)} was lost"

    async def _wait_for(self, event: asyncio.Event, timeout: float | None) -> None:  # noqa: ASYNC109
        """Wait for `event` or stop, at most `timeout` seconds."""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


@asynccontextmanager
async def open_job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The api's job queue for its lifetime: connected now if the broker is up, later if not."""
    connection = StreaqConnection(settings)
    await connection.start()
    try:
        yield connection
    finally:
        await connection.close()
