"""The worker's entry point: `streaq run mus.worker:worker` runs every job of mus.

The broker (`core/streaq_broker`) is configured from the settings here with every job of
`jobs/registry` registered on it (task name = function name) and the `JobRuntime` lifespan
the jobs reach the database, covers, events and locks through; chained jobs are enqueued
through the job-queue port on streaq (`adapters/queue`). All three queues, highest priority
first; `MUS_WORKER_QUEUES=high_priority` (comma-separated) makes a dedicated worker for a
subset.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from mus.adapters.queue.streaq_job_queue import PRIORITIES, StreaqJobQueue
from mus.core.broker_fault_tries import StartedJobs
from mus.core.config import Settings, get_settings
from mus.core.streaq_broker import (
    MAX_TRIES,
    MusWorker,
    create_broker,
    retried_when_the_broker_is_away,
)
from mus.jobs.registry import JOBS
from mus.jobs.runtime import JobRuntime, install_job_runtime


def create_worker(
    settings: Settings,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> MusWorker[JobRuntime]:
    """A streaq Worker with every job registered (task name = function name).

    `queues` limits what it consumes (e.g. a dedicated high-priority worker); it may still
    enqueue on every queue, as chained jobs do. Concurrency (unless given), prefetch and the
    grace running jobs get on SIGTERM/SIGINT come from the settings.
    """
    unknown = set(queues or ()) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}: choose from {list(PRIORITIES)}")
    # A fresh list each time: streaq reverses the list it is given in place.
    priorities = [name for name in PRIORITIES if queues is None or name in queues]
    started_jobs = StartedJobs()  # shared by the twins a broker fault makes

    def build() -> MusWorker[JobRuntime]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[JobRuntime]:
            runtime = await JobRuntime.open(settings, StreaqJobQueue(worker))
            install_job_runtime(runtime)
            try:
                yield runtime
            finally:
                install_job_runtime(None)
                await runtime.close()

        worker = create_broker(
            settings,
            priorities=priorities,
            concurrency=concurrency,
            lifespan=lifespan,
            rebuild=build,
            started_jobs=started_jobs,
        )
        tasks = [
            worker.task(name=name, max_tries=MAX_TRIES)(retried_when_the_broker_is_away(job))
            for name, job in JOBS.items()
        ]
        # `context` of any registered task is the running one's (a context variable).
        worker.middleware(started_jobs.middleware(lambda: tasks[0].context.task_id))
        return worker

    return build()


def worker_from_settings(settings: Settings) -> MusWorker[JobRuntime]:
    """The worker `streaq run` starts: the queues and concurrency the environment asks for."""
    try:
        return create_worker(settings, queues=settings.worker_queue_names)
    except ValueError as exc:  # a typo in MUS_WORKER_QUEUES: one line, not a trace
        raise SystemExit(f"mus worker not started: MUS_WORKER_QUEUES: {exc}") from None


@functools.cache
def cli_worker() -> MusWorker[JobRuntime]:
    """The one Worker of a `streaq run` process, built from the environment when first asked."""
    return worker_from_settings(get_settings())


def __getattr__(name: str) -> MusWorker[JobRuntime]:
    # `streaq run mus.worker:worker` reads this attribute; whoever imports this module for
    # `create_worker` (the tests, the bench) never builds (or validates) a worker by accident.
    if name == "worker":
        return cli_worker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
