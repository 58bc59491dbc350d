"""One arq baseline worker process, as arq was deployed: one process per queue, max_jobs 10.

`python -m benchmarks.arq_bench_worker high_priority` from `contract_tests/`, with the
environment a deployment gives it. The baseline's settings and jobs, plus the bench's jobs;
arq's own `run_worker` handles SIGTERM/SIGINT as it did in production.
"""

from __future__ import annotations

import sys

from arq.worker import run_worker

from benchmarks.bench_jobs import BENCH_JOBS
from mus.application.job_catalogue import QueueName

from harness.arq_wiring import FUNCTIONS, arq_function, worker_settings


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(f"usage: python -m benchmarks.arq_bench_worker {{{','.join(QueueName)}}}")
    queue = QueueName(argv[0])
    bench = [arq_function(name, job) for name, job in BENCH_JOBS.items()]
    run_worker(worker_settings(queue, functions=[*FUNCTIONS, *bench]))


if __name__ == "__main__":
    main(sys.argv[1:])
