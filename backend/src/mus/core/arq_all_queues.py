"""One process consuming all three arq queues: `python -m mus.core.arq_all_queues`.

arq binds a worker to one queue, while a container or a supervisord program is one command;
this runs the three per-queue Workers of `mus.infrastructure.jobs.worker` in one event loop,
sharing one job runtime, and stops them all on SIGTERM/SIGINT (or when any of them fails).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from arq.worker import Worker

from mus.core.arq_pool import ArqJobQueue, open_arq_pool
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging
from mus.infrastructure.jobs.job_catalogue import QUEUES_BY_PRIORITY, QueueName
from mus.infrastructure.jobs.job_runtime import JobRuntime, install_job_runtime
from mus.infrastructure.jobs.worker import worker_settings

logger = logging.getLogger(__name__)


async def _no_hook(ctx: dict[Any, Any]) -> None:
    """The shared runtime is opened and closed here, once, not by each worker."""


def build_workers(queues: tuple[QueueName, ...] = QUEUES_BY_PRIORITY) -> list[Worker]:
    """One arq Worker per queue; signals are ours to handle, not each Worker's."""
    return [
        Worker(
            **worker_settings(
                queue, handle_signals=False, on_startup=_no_hook, on_shutdown=_no_hook
            )
        )
        for queue in queues
    ]


async def run_all_queues(
    settings: Settings,
    stop: asyncio.Event,
    queues: tuple[QueueName, ...] = QUEUES_BY_PRIORITY,
) -> None:
    """Run the workers until `stop` is set; re-raises the error of a worker that failed."""
    pool = open_arq_pool(settings)
    runtime = await JobRuntime.open(settings, ArqJobQueue(pool))
    install_job_runtime(runtime)
    workers = build_workers(queues)
    runs = [
        asyncio.create_task(worker.async_run(), name=f"arq-{worker.queue_name}")
        for worker in workers
    ]
    stopper = asyncio.create_task(stop.wait(), name="stop-signal")
    try:
        await asyncio.wait([*runs, stopper], return_when=asyncio.FIRST_COMPLETED)
        failure = next(
            (run.exception() for run in runs if run.done() and not run.cancelled()), None
        )
        if failure is None and not stop.is_set():
            failure = RuntimeError("an arq worker stopped by itself")
    finally:
        stopper.cancel()
        # close() cancels each worker's loop and running jobs (arq re-queues them: jobs are
        # idempotent), then waits for them and closes the worker's connection.
        await asyncio.gather(*(worker.close() for worker in workers), return_exceptions=True)
        await asyncio.gather(*runs, return_exceptions=True)
        install_job_runtime(None)
        await runtime.close()
        await pool.aclose()
    if failure is not None:
        raise failure


async def _main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    logger.info("arq worker consuming %s", ", ".join(q.value for q in QUEUES_BY_PRIORITY))
    await run_all_queues(settings, stop)
    logger.info("arq worker stopped")


def main() -> int:
    """Console entry: 0 after a signal, 1 when a worker failed."""
    try:
        asyncio.run(_main())
    except Exception:
        logger.exception("arq worker failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
