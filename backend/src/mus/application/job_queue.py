"""The one port every enqueue goes through, whatever backend runs the jobs."""

from __future__ import annotations

import json
from typing import Any, Protocol

from mus.infrastructure.jobs.job_catalogue import JOB_QUEUES, QueueName


class UnknownJobError(ValueError):
    """An enqueue named a queue or job that does not exist, or the wrong queue for a job."""


class BrokerUnavailableError(RuntimeError):
    """The broker could not take the job; callers answer 503 and change nothing."""


class JobQueue(Protocol):
    """Backend-neutral enqueue port: `enqueue(queue_name, task_name, **kwargs)`."""

    async def enqueue(self, queue_name: str, task_name: str, **kwargs: Any) -> str:
        """Put a job on a queue and return its id; raises UnknownJobError at the call."""
        ...


def check_job(queue_name: str, task_name: str, kwargs: dict[str, Any]) -> QueueName:
    """Refuse, at the call, a job that would sit lost in Redis or not survive JSON."""
    try:
        queue = QueueName(queue_name)
    except ValueError:
        known = ", ".join(q.value for q in QueueName)
        raise UnknownJobError(f"unknown queue {queue_name!r} (known: {known})") from None
    home = JOB_QUEUES.get(task_name)
    if home is None:
        raise UnknownJobError(f"unknown job {task_name!r} (known: {', '.join(sorted(JOB_QUEUES))})")
    if home is not queue:
        raise UnknownJobError(f"job {task_name!r} runs on {home.value!r}, not on {queue_name!r}")
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UnknownJobError(f"arguments of {task_name!r} are not JSON primitives: {exc}") from exc
    return queue
