"""arq worker settings: one class per queue, since an arq worker consumes exactly one queue.

Run all three (``make run`` and supervisord do):
``arq mus.infrastructure.jobs.worker.HighPriorityWorker`` (and Medium..., Low...).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from arq.worker import Function, func

from mus.core.arq_pool import (
    ArqJobQueue,
    arq_queue_key,
    json_deserializer,
    json_serializer,
    redis_settings,
)
from mus.core.config import get_settings
from mus.core.logging_setup import configure_logging
from mus.infrastructure.jobs.job_catalogue import QueueName
from mus.infrastructure.jobs.job_runtime import JobRuntime, install_job_runtime
from mus.infrastructure.jobs.registered_jobs import JOBS, JobFunction

logger = logging.getLogger(__name__)


def arq_function(name: str, job: JobFunction) -> Function:
    """Adapt a plain `async def job(**kwargs)` to arq's `(ctx, **kwargs)` calling convention."""

    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args:
            raise TypeError(f"{name} takes keyword arguments only, got {len(args)} positional")
        return await job(**kwargs)

    run.__qualname__ = name
    return func(run, name=name)


FUNCTIONS: list[Function] = [arq_function(name, job) for name, job in JOBS.items()]


async def on_startup(ctx: dict[str, Any]) -> None:
    """Open the job runtime on the worker's own arq connection."""
    settings = get_settings()
    configure_logging(settings.log_level)
    runtime = await JobRuntime.open(settings, ArqJobQueue(ctx["redis"]))
    install_job_runtime(runtime)
    ctx["runtime"] = runtime


async def on_shutdown(ctx: dict[str, Any]) -> None:
    runtime: JobRuntime | None = ctx.get("runtime")
    if runtime is not None:
        await runtime.close()
    install_job_runtime(None)


class _BaseWorker:
    """Settings shared by the three queue workers."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # arq's CLI reads only a settings class's own __dict__ (arq.worker.get_kwargs), so
        # the shared settings are copied onto each queue's class rather than inherited.
        super().__init_subclass__(**kwargs)
        for name, value in vars(_BaseWorker).items():
            if not name.startswith("_"):
                setattr(cls, name, value)

    functions: ClassVar[list[Function]] = FUNCTIONS
    on_startup = on_startup
    on_shutdown = on_shutdown
    job_serializer = json_serializer
    job_deserializer = json_deserializer
    redis_settings = redis_settings(get_settings())
    max_jobs = 10
    keep_result = 3600
    poll_delay = 0.1


class HighPriorityWorker(_BaseWorker):
    """Consumes `high_priority`: creations, deletions, user deletions."""

    queue_name = arq_queue_key(QueueName.HIGH.value)


class MediumPriorityWorker(_BaseWorker):
    """Consumes `medium_priority`: modifications, moves, renames."""

    queue_name = arq_queue_key(QueueName.MEDIUM.value)


class LowPriorityWorker(_BaseWorker):
    """Consumes `low_priority`: slow metadata, one track or a scan batch."""

    queue_name = arq_queue_key(QueueName.LOW.value)


WORKERS_BY_QUEUE: dict[QueueName, type[_BaseWorker]] = {
    QueueName.HIGH: HighPriorityWorker,
    QueueName.MEDIUM: MediumPriorityWorker,
    QueueName.LOW: LowPriorityWorker,
}


def worker_settings(queue: QueueName, **overrides: Any) -> dict[str, Any]:
    """The keyword arguments of `arq.Worker` for one queue (tests and embedded runs)."""
    cls = WORKERS_BY_QUEUE[queue]
    settings = {
        name: getattr(cls, name)
        for name in (
            "functions",
            "on_startup",
            "on_shutdown",
            "job_serializer",
            "job_deserializer",
            "max_jobs",
            "keep_result",
            "poll_delay",
            "queue_name",
        )
    }
    # Read now, not at import: an embedded worker follows the current environment.
    settings["redis_settings"] = redis_settings(get_settings())
    settings.update(overrides)
    return settings
