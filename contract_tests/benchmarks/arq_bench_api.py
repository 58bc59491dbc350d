"""The real api app enqueueing on the arq baseline, for the memory row under arq.

`uvicorn benchmarks.arq_bench_api:app` from `contract_tests/`: `mus.main.create_app` with
the baseline's enqueue port instead of streaq's, as the api was deployed on arq.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mus.application.job_queue import JobQueue
from mus.core.config import Settings
from mus.main import create_app

from harness.arq_wiring import ArqJobQueue, open_arq_pool


@asynccontextmanager
async def open_arq_job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The api's arq pool for its lifetime (JSON jobs, one key per queue)."""
    pool = open_arq_pool(settings)
    try:
        yield ArqJobQueue(pool)
    finally:
        await pool.aclose()


app: FastAPI = create_app(job_queue_opener=open_arq_job_queue)
