"""`mus worker` (`python -m mus.local_stack.worker_pool`): the workers of one host, supervised.

One streaq process runs its jobs on one core, so a container runs `MUS_WORKER_PROCESSES` of
them (one per core by default). streaq's own `--workers N` forks children it neither restarts
nor forwards signals to; this pool restarts a dead one with backoff, as `mus run` does, and
on SIGTERM/SIGINT (`docker stop`, Ctrl-C) gives them all their grace to finish, then exits.
"""

from __future__ import annotations

import os
import sys

from mus.core.config import Settings, get_settings
from mus.local_stack.stack import LocalStack, stop_on_signals

STOP_MARGIN_SECONDS = 5.0
"""Beyond the workers' own grace (MUS_WORKER_GRACE_SECONDS) before a child is killed."""


def run_worker_pool(settings: Settings) -> int:
    """Run the workers until a stop signal (0) or one keeps dying at start (1, naming it)."""
    pool = LocalStack(settings, stop_timeout=settings.worker_grace_seconds + STOP_MARGIN_SECONDS)
    with stop_on_signals(pool):
        try:
            pool.launch_workers(dict(os.environ))
            names = pool.worker_names()
            pool.say(f"started {len(names)} worker processes: {', '.join(names)}")
            code = pool.wait()
        finally:
            pool.stop()
    return code


if __name__ == "__main__":  # pragma: no cover - the compose service's command
    sys.exit(run_worker_pool(get_settings()))
