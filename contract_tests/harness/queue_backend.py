"""What the harness needs from a queue backend: small on purpose, so each adapter stays honest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mus.application.job_queue import JobQueue
from mus.core.config import Settings


@dataclass(frozen=True, slots=True)
class ExecutedJob:
    """One job the backend's real worker ran, as the backend itself reports it.

    `queue` is the queue (arq) or priority (streaq) the worker consumed the job from, as the
    backend delivered it, not what the enqueue call asked for. `outcome` is the job's return
    value, or for a failure `{"error": class name, "message": text}` read from the backend's
    result store. `tries` is how often the backend ran it; `started` its place in the order
    the worker started jobs (None when another process ran it).
    """

    queue: str
    task: str
    kwargs: dict[str, Any]
    success: bool
    outcome: Any
    tries: int
    started: int | None = None


class QueueBackend(Protocol):
    """start -> (scenario enqueues through the port) -> drain -> executed_jobs -> stop."""

    name: str

    def version(self) -> str:
        """The backend library's version, for the provenance file and the report."""
        ...

    def port_classes(self) -> tuple[type, ...]:
        """The JobQueue classes this backend enqueues through (observed for coverage)."""
        ...

    async def start(self, settings: Settings) -> JobQueue:
        """Connect and return the enqueue port the api and the watcher use in this run."""
        ...

    async def drain(
        self,
        queues: Sequence[str] | None = None,
        timeout_seconds: float = 60.0,
        concurrency: int | None = None,
    ) -> None:
        """Run the real worker until the queues (default: all) are empty and nothing runs.

        A subset lets a scenario interleave like production can: e.g. a creation processed,
        then a modification, before any slow job runs. `concurrency=1` runs one job at a time,
        which makes the start order a deterministic part of the contract.
        """
        ...

    def worker_process(self) -> list[str]:
        """The argv of this backend's worker as a process of its own, on all three queues
        (run from `contract_tests/` with the world's environment); fault scenarios kill it."""
        ...

    async def executed_jobs(self) -> list[ExecutedJob]:
        """Every job run since start, with queue, arguments and outcome."""
        ...

    async def stop(self) -> None:
        """Close connections; the Redis database is flushed by the harness."""
        ...
