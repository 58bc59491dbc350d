"""Which backend the api and CLI enqueue on: the one place that names it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from mus.application.job_queue import JobQueue
from mus.core.arq_pool import ArqJobQueue, open_arq_pool
from mus.core.config import Settings

JobQueueOpener = Callable[[Settings], AbstractAsyncContextManager[JobQueue]]


@asynccontextmanager
async def open_job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """One broker connection for the whole process lifetime (api lifespan, CLI run)."""
    pool = open_arq_pool(settings)
    try:
        yield ArqJobQueue(pool)
    finally:
        await pool.aclose()
