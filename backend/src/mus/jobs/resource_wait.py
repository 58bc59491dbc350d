"""Every job as the backends run it: a transient resource fault waits, it never fails the job.

A database locked past its busy timeout, a full disk, a folder remounted read-only or a broker
away: the job runs again from the start after a backoff (jobs are idempotent), logged once per
episode, until the resource is back or `Settings.resource_patience_seconds` have passed. It
happens inside the job, so it holds on every backend, and it spends none of the job's tries.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from mus.adapters.fault_episodes import ride_out
from mus.jobs.job_types import JobFunction, JobResult
from mus.jobs.runtime import get_job_runtime

logger = logging.getLogger(__name__)


def waiting_out_resource_faults(job: JobFunction) -> JobFunction:
    """`job`, run again after each transient fault until it succeeds or patience runs out."""

    @functools.wraps(job)
    async def run(**kwargs: Any) -> JobResult:
        patience = get_job_runtime().settings.resource_patience_seconds
        return await ride_out(
            lambda: job(**kwargs),
            what=f"job {job.__name__}",
            logger=logger,
            patience_seconds=patience,
        )

    return run
