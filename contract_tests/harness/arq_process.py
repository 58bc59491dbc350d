"""The arq baseline as a process of its own: one arq Worker per queue, as it was deployed.

`python -m harness.arq_process` from `contract_tests/`, with the world's environment. A fault
scenario SIGKILLs it mid-job; `MUS_CONTRACT_ARQ_JOB_TIMEOUT` (seconds, 300 as deployed) sets
how long arq then holds the job before another worker may run it (job timeout + 10 s).
"""

from __future__ import annotations

import asyncio
import os

from arq.worker import Worker

from mus.application.job_catalogue import QUEUES_BY_PRIORITY

from harness.arq_wiring import worker_settings

JOB_TIMEOUT_ENV = "MUS_CONTRACT_ARQ_JOB_TIMEOUT"


async def main() -> None:
    timeout = float(os.environ.get(JOB_TIMEOUT_ENV, "300"))
    workers = [
        Worker(**worker_settings(queue, job_timeout=timeout, handle_signals=False))
        for queue in QUEUES_BY_PRIORITY
    ]
    await asyncio.gather(*(worker.main() for worker in workers))


if __name__ == "__main__":
    asyncio.run(main())
