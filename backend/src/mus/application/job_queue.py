"""The one port every enqueue goes through: callers name the job, the catalogue knows its queue.

Backends implement `JobQueue` in their own wiring module and call `route_job` first, so an
unknown job or arguments that would not survive JSON fail at the call, never in Redis; a
broker that cannot take the job raises `BrokerUnavailableError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from mus.application.job_catalogue import JOB_QUEUES, QueueName
from mus.core.config import Settings


class JobRejectedError(ValueError):
    """The job cannot be queued as asked: no such job, or arguments that are not JSON."""


class JobQueue(Protocol):
    """Backend-neutral enqueue port: `enqueue(task_name, **kwargs)`."""

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        """Put a job on its queue and return its id; raises JobRejectedError at the call."""
        ...

    async def backlog(self) -> int:
        """Jobs the broker holds that have not finished: queued, running or delayed."""
        ...


JobQueueOpener = Callable[[Settings], AbstractAsyncContextManager[JobQueue]]
"""How a process gets its job queue for its lifetime; the entry point picks the backend."""


def route_job(task_name: str, kwargs: dict[str, Any]) -> QueueName:
    """The queue `task_name` runs on; refuses an unknown job or arguments JSON cannot carry."""
    queue = JOB_QUEUES.get(task_name)
    if queue is None:
        raise JobRejectedError(
            f"unknown job {task_name!r} (known: {', '.join(sorted(JOB_QUEUES))})"
        )
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JobRejectedError(
            f"arguments of {task_name!r} are not JSON primitives: {exc}"
        ) from exc
    return queue
