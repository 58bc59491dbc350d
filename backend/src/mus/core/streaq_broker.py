"""streaq wiring: one Worker consuming the three queues as priorities, and the enqueue port.

`streaq run mus.core.streaq_broker:worker` runs every job, highest priority first;
`create_worker(settings, queues=[...])` builds one for a subset of the queues. Jobs and
results travel as JSON, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from coredis.exceptions import RedisError as CoredisError
from streaq import Worker
from streaq.types import StreaqError

from mus.application.job_queue import BrokerUnavailableError, JobQueue, check_job
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging
from mus.infrastructure.broker.broker_probe import mask_url
from mus.infrastructure.jobs.job_catalogue import QUEUES_BY_PRIORITY
from mus.infrastructure.jobs.job_runtime import JobRuntime, install_job_runtime
from mus.infrastructure.jobs.registered_jobs import JOBS

# streaq wants priorities lowest first.
PRIORITIES: tuple[str, ...] = tuple(queue.value for queue in reversed(QUEUES_BY_PRIORITY))
DEFAULT_CONCURRENCY = 10
QUEUE_NAME = "mus"


def to_json(value: Any) -> bytes:
    """Tasks and results as JSON; a failed task's exception is stored as its repr."""
    return json.dumps(value, default=repr, sort_keys=True).encode()


def from_json(raw: bytes | str) -> Any:
    return json.loads(raw)


class StreaqJobQueue:
    """`enqueue(queue_name, task_name, **kwargs)` on streaq: the queue is the task's priority."""

    def __init__(self, worker: Worker[Any]) -> None:
        self.worker = worker

    async def enqueue(self, queue_name: str, task_name: str, **kwargs: Any) -> str:
        queue = check_job(queue_name, task_name, kwargs)
        try:
            task = await self.worker.enqueue_unsafe(task_name, **kwargs).start(priority=queue.value)
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return str(task.id)


def create_worker(
    settings: Settings,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Worker[JobRuntime]:
    """A streaq Worker with every job registered (task name = function name).

    `queues` limits what it consumes (e.g. a dedicated high-priority worker); it may still
    enqueue on every queue, as chained jobs do.
    """
    unknown = set(queues or ()) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}: choose from {list(PRIORITIES)}")
    # A fresh list each time: streaq reverses the list it is given in place.
    priorities = [name for name in PRIORITIES if queues is None or name in queues]

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[JobRuntime]:
        current = get_settings()
        configure_logging(current.log_level)
        runtime = await JobRuntime.open(current, StreaqJobQueue(worker))
        install_job_runtime(runtime)
        try:
            yield runtime
        finally:
            install_job_runtime(None)
            await runtime.close()

    worker = Worker(
        redis_url=settings.redis_url,
        queue_name=QUEUE_NAME,
        priorities=priorities,
        concurrency=concurrency,
        serializer=to_json,
        deserializer=from_json,
        lifespan=lifespan,
    )
    for name, job in JOBS.items():
        worker.task(name=name)(job)
    return worker


@asynccontextmanager
async def open_streaq_job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The api's single broker connection for its lifetime (it runs no tasks)."""
    client = create_worker(settings)
    try:
        await client.__aenter__()
    except Exception as exc:  # coredis raises inside an anyio task group
        raise BrokerUnavailableError(
            f"cannot connect to the broker at {mask_url(settings.redis_url)}: {root_cause(exc)}"
        ) from exc
    try:
        yield StreaqJobQueue(client)
    finally:
        await client.__aexit__(None, None, None)


def root_cause(exc: BaseException) -> str:
    """The first real error inside (possibly nested) exception groups, as one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


worker = create_worker(get_settings())
