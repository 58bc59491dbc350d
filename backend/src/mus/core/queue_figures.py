"""What the operator's view shows of the job queue, in terms no queue backend owns.

The backend's wiring fills these in (only `core` may name it); the api turns them into JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Jobs of one queue (a priority) that no worker has taken yet, and those delayed."""

    queue: str
    waiting: int
    delayed: int


@dataclass(frozen=True, slots=True)
class JobDurations:
    """How long the recent finished runs of one job took, in milliseconds."""

    job: str
    runs: int
    failed: int
    mean_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class WorkerSeen:
    """A worker whose heartbeat is fresh, with what it says of itself."""

    worker_id: str
    summary: str


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """The queue at one moment: depth per queue, running, recent results and live workers."""

    queues: list[QueueDepth]
    running: int
    recent_finished: int
    recent_failed: int
    durations: list[JobDurations] = field(default_factory=list)
    workers: list[WorkerSeen] = field(default_factory=list)
