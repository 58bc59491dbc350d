"""The arq baseline's wiring: the recording every streaq run is compared with.

arq is a test-only dependency (`contract_tests/requirements-arq.txt`), never one of mus.
The same plain jobs as the app, JSON on the wire, one arq Worker per queue as arq binds a
worker to one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from arq import ArqRedis
from arq.connections import RedisSettings
from arq.worker import Function, func
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from mus.application.job_catalogue import QueueName
from mus.application.job_queue import JobRequest, route_job, route_jobs
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging
from mus.jobs.registry import JOBS, JobFunction
from mus.jobs.runtime import JobRuntime, install_job_runtime

logger = logging.getLogger(__name__)

ARQ_QUEUE_PREFIX = "arq:queue:"
MAX_JOBS = 10
KEEP_RESULT_SECONDS = 3600
POLL_DELAY_SECONDS = 0.1


def arq_queue_key(queue_name: str) -> str:
    """Redis key of one named queue under arq (arq consumes one key per worker)."""
    return f"{ARQ_QUEUE_PREFIX}{queue_name}"


def failure_document(value: object) -> object:
    """A failed job's exception as `{"error": class, "message": text}` in arq's result store
    (plain JSON would store arq's "unable to serialize result" instead)."""
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_serializer(value: Any) -> bytes:
    """Jobs and results travel as JSON, never as pickle read from the network."""
    return json.dumps(
        value, separators=(",", ":"), sort_keys=True, default=failure_document
    ).encode()


def json_deserializer(raw: bytes) -> Any:
    """Inverse of `json_serializer`."""
    return json.loads(raw)


def open_arq_pool(settings: Settings) -> ArqRedis:
    """A lazily connecting pool with JSON serialisation (what the api held on arq)."""
    return ArqRedis(
        ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=2.0),
        job_serializer=json_serializer,
        job_deserializer=json_deserializer,
    )


class ArqJobQueue:
    """`enqueue(task_name, **kwargs)` on arq: the catalogue's queue is an arq queue key."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        queue = route_job(task_name, kwargs)
        try:
            job = await self.pool.enqueue_job(
                task_name, _queue_name=arq_queue_key(queue.value), **kwargs
            )
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        if job is None:  # only happens with a duplicate explicit job id, which mus never sets
            raise BrokerUnavailableError(f"arq refused job {task_name!r}")
        return job.job_id

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        """arq has no batch enqueue: the batch is routed whole first, then each job goes
        through arq's own `enqueue_job` (a transaction per job, as arq always sends them)."""
        route_jobs(jobs)
        return [await self.enqueue(job.task_name, **job.kwargs) for job in jobs]

    async def backlog(self) -> int:
        """Jobs on the three queues: arq keeps a job in its queue until it has finished."""
        try:
            counts = [await self.pool.zcard(arq_queue_key(queue.value)) for queue in QueueName]
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return sum(int(count) for count in counts)


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


def worker_settings(queue: QueueName, **overrides: Any) -> dict[str, Any]:
    """The keyword arguments of `arq.Worker` for one queue, read from the current settings."""
    settings: dict[str, Any] = {
        "functions": FUNCTIONS,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "job_serializer": json_serializer,
        "job_deserializer": json_deserializer,
        "max_jobs": MAX_JOBS,
        "keep_result": KEEP_RESULT_SECONDS,
        "poll_delay": POLL_DELAY_SECONDS,
        "queue_name": arq_queue_key(queue.value),
        "redis_settings": RedisSettings.from_dsn(get_settings().redis_url),
    }
    settings.update(overrides)
    return settings
