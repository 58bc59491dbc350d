"""streaq wiring: one Worker consuming the three queues as priorities, and the enqueue port.

`streaq run mus.core.streaq_broker:worker` runs every job, highest priority first;
`MUS_WORKER_QUEUES=high_priority` (comma-separated) makes it a dedicated worker for a
subset. Jobs and results travel as JSON, never pickle. The worker probes the broker before
streaq loads its Functions, so DragonflyDB or Redis 6 is refused with one sentence.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskStatus
from coredis.exceptions import RedisError as CoredisError
from streaq import Worker
from streaq.types import StreaqError

from mus.application.job_queue import BrokerUnavailableError, check_job
from mus.core.broker_preflight import BrokerRefusedError, refuse_unfit_broker
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging
from mus.infrastructure.jobs.job_catalogue import QUEUES_BY_PRIORITY
from mus.infrastructure.jobs.job_runtime import JobRuntime, install_job_runtime
from mus.infrastructure.jobs.registered_jobs import JOBS

# streaq wants priorities lowest first.
PRIORITIES: tuple[str, ...] = tuple(queue.value for queue in reversed(QUEUES_BY_PRIORITY))
QUEUE_NAME = "mus"

logger = logging.getLogger(__name__)


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


def configure_worker_logging() -> None:
    """mus's log format for the jobs; streaq's own lines once, in the CLI's format if it set one."""
    configure_logging(get_settings().log_level)
    streaq_logger = logging.getLogger("streaq")
    if streaq_logger.handlers:
        streaq_logger.propagate = False


class MusWorker(Worker[JobRuntime]):
    """streaq's Worker, refusing an unfit broker before it connects (and loads Functions)."""

    def __init__(self, *, redis_url: str, **options: Any) -> None:
        super().__init__(redis_url=redis_url, **options)
        self.broker_url = redis_url  # streaq keeps only the client it built from it

    async def run_async(self, *, task_status: TaskStatus[None] = TASK_STATUS_IGNORED) -> None:
        configure_worker_logging()
        try:
            info = await refuse_unfit_broker(self.broker_url, allow_unreachable=False)
        except BrokerRefusedError as exc:
            # SystemExit with a message: the streaq CLI exits 1 printing this one line.
            raise SystemExit(f"mus worker not started: {exc}") from None
        logger.info("broker %s at %s", info.product, info.url)
        await super().run_async(task_status=task_status)


def create_worker(
    settings: Settings,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> MusWorker:
    """A streaq Worker with every job registered (task name = function name).

    `queues` limits what it consumes (e.g. a dedicated high-priority worker); it may still
    enqueue on every queue, as chained jobs do. Concurrency (unless given) and the grace
    running jobs get on SIGTERM/SIGINT come from the settings.
    """
    unknown = set(queues or ()) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}: choose from {list(PRIORITIES)}")
    # A fresh list each time: streaq reverses the list it is given in place.
    priorities = [name for name in PRIORITIES if queues is None or name in queues]

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[JobRuntime]:
        current = get_settings()
        runtime = await JobRuntime.open(current, StreaqJobQueue(worker))
        install_job_runtime(runtime)
        try:
            yield runtime
        finally:
            install_job_runtime(None)
            await runtime.close()

    worker = MusWorker(
        redis_url=settings.redis_url,
        queue_name=QUEUE_NAME,
        priorities=priorities,
        concurrency=settings.worker_concurrency if concurrency is None else concurrency,
        grace_period=settings.worker_grace_seconds,
        serializer=to_json,
        deserializer=from_json,
        lifespan=lifespan,
    )
    for name, job in JOBS.items():
        worker.task(name=name)(job)
    return worker


def root_cause(exc: BaseException) -> str:
    """The first real error inside (possibly nested) exception groups, as one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def worker_from_settings(settings: Settings) -> MusWorker:
    """The worker `streaq run` starts: the queues and concurrency the environment asks for."""
    try:
        return create_worker(settings, queues=settings.worker_queue_names)
    except ValueError as exc:  # a typo in MUS_WORKER_QUEUES: one line, not a trace
        raise SystemExit(f"mus worker not started: MUS_WORKER_QUEUES: {exc}") from None


@functools.cache
def cli_worker() -> MusWorker:
    """The one Worker of a `streaq run` process, built from the environment when first asked."""
    return worker_from_settings(get_settings())


def __getattr__(name: str) -> MusWorker:
    # `streaq run mus.core.streaq_broker:worker` reads this attribute; the api, which imports
    # this module for the enqueue port, never builds (or validates) a worker of its own.
    if name == "worker":
        return cli_worker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
