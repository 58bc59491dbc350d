"""arq wiring of the enqueue port: one shared pool per process, JSON on the wire."""

from __future__ import annotations

import json
from typing import Any

from arq import ArqRedis
from arq.connections import RedisSettings
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from mus.application.job_queue import BrokerUnavailableError, check_job
from mus.core.config import Settings

ARQ_QUEUE_PREFIX = "arq:queue:"


def arq_queue_key(queue_name: str) -> str:
    """Redis key of one named queue under arq (arq consumes one key per worker)."""
    return f"{ARQ_QUEUE_PREFIX}{queue_name}"


def json_serializer(value: Any) -> bytes:
    """Jobs and results travel as JSON, never as pickle read from the network."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def json_deserializer(raw: bytes) -> Any:
    """Inverse of `json_serializer`."""
    return json.loads(raw)


def redis_settings(settings: Settings) -> RedisSettings:
    """arq connection settings from the one settings object (DRAGONFLY_URL alias included)."""
    return RedisSettings.from_dsn(settings.redis_url)


def open_arq_pool(settings: Settings) -> ArqRedis:
    """The pool the api shares across requests (lifespan), with JSON serialisation.

    It connects lazily: an api started while the broker is down still serves the library
    and answers 503 to what needs a job, instead of failing to start.
    """
    return ArqRedis(
        ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=2.0),
        job_serializer=json_serializer,
        job_deserializer=json_deserializer,
    )


class ArqJobQueue:
    """`enqueue(queue_name, task_name, **kwargs)` on arq; checks the job before Redis sees it."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, queue_name: str, task_name: str, **kwargs: Any) -> str:
        queue = check_job(queue_name, task_name, kwargs)
        try:
            job = await self.pool.enqueue_job(
                task_name, _queue_name=arq_queue_key(queue.value), **kwargs
            )
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        if job is None:  # only happens with a duplicate explicit job id, which mus never sets
            raise BrokerUnavailableError(f"arq refused job {task_name!r}")
        return job.job_id
