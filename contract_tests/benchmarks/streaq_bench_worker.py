"""mus's streaq worker with the bench's jobs registered too, for the queue-only rows.

`python -m streaq run benchmarks.streaq_bench_worker:worker` from `contract_tests/`. Built
like `mus.worker:worker` (same settings, queues and concurrency), lazily, so
importing this module builds nothing. The files rows run mus's own worker instead.
"""

from __future__ import annotations

import functools

from benchmarks.bench_jobs import BENCH_JOBS
from mus.core.config import get_settings
from mus.core.streaq_broker import MusWorker
from mus.jobs.runtime import JobRuntime
from mus.worker import worker_from_settings

WORKER_TARGET = "benchmarks.streaq_bench_worker:worker"


@functools.cache
def bench_worker() -> MusWorker[JobRuntime]:
    """The one Worker of this `streaq run` process."""
    worker = worker_from_settings(get_settings())
    for name, job in BENCH_JOBS.items():
        worker.task(name=name)(job)
    return worker


def __getattr__(name: str) -> MusWorker[JobRuntime]:
    if name == "worker":
        return bench_worker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
