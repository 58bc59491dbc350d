"""The one port every enqueue goes through: callers name the job, the catalogue knows its queue.

Backends implement `JobQueue` in their own wiring module and call `route_job` first, so an
unknown job or arguments that would not survive JSON fail at the call, never in Redis; a
broker that cannot take the job raises `BrokerUnavailableError`. A batch (`enqueue_many`) is
routed whole before anything is sent, then sent in one pipeline round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from mus.application.job_catalogue import JOB_QUEUES, QueueName
from mus.core.config import Settings


class JobRejectedError(ValueError):
    """The job cannot be queued as asked: no such job, or arguments that are not JSON."""


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One job of a batch: its name and JSON arguments; the catalogue decides its queue."""

    task_name: str
    kwargs: Mapping[str, Any]


class JobQueue(Protocol):
    """Backend-neutral enqueue port: `enqueue(task_name, **kwargs)`, `enqueue_many(jobs)`."""

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        """Put a job on its queue and return its id; raises JobRejectedError at the call."""
        ...

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        """Put a batch on its queues in one round trip; returns the ids in order.

        Every job is routed and validated first: one invalid job raises JobRejectedError
        before anything is sent. A broker that cannot take them raises
        BrokerUnavailableError; the round trip is a pipeline, not a transaction, so a broker
        lost mid-batch may have taken some of them. Callers that must not lose any send
        through the outbox, which keeps the whole batch and sends it again: a duplicate is
        harmless because every job is idempotent (ARCHITECTURE.md, delivery under faults).
        """
        ...

    async def backlog(self) -> int:
        """Jobs the broker holds that have not finished: queued, running or delayed."""
        ...


JobQueueOpener = Callable[[Settings], AbstractAsyncContextManager[JobQueue]]
"""How a process gets its job queue for its lifetime; the entry point picks the backend."""


def route_job(task_name: str, kwargs: Mapping[str, Any]) -> QueueName:
    """The queue `task_name` runs on; refuses an unknown job or arguments JSON cannot carry."""
    queue = JOB_QUEUES.get(task_name)
    if queue is None:
        raise JobRejectedError(
            f"unknown job {task_name!r} (known: {', '.join(sorted(JOB_QUEUES))})"
        )
    try:
        json.dumps(dict(kwargs), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JobRejectedError(
            f"arguments of {task_name!r} are not JSON primitives: {exc}"
        ) from exc
    return queue


def route_jobs(jobs: Sequence[JobRequest]) -> list[QueueName]:
    """The queue of every job of a batch, in order; the first invalid one refuses them all,
    naming its place in the batch."""
    queues = []
    for index, job in enumerate(jobs):
        try:
            queues.append(route_job(job.task_name, job.kwargs))
        except JobRejectedError as exc:
            raise JobRejectedError(f"job {index + 1} of {len(jobs)} in the batch: {exc}") from exc
    return queues
