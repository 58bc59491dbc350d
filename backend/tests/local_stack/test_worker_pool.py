"""`mus worker` for real: N streaq processes, a SIGKILLed one restarted, SIGTERM stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mus.core.config import Settings

from tests.process_probes import children_of, gone, stop_process_and_children, wait_until

WORKER_TARGET = "mus.worker:worker"


def workers_of(pid: int) -> dict[int, str]:
    return {child: cmd for child, cmd in children_of(pid).items() if WORKER_TARGET in cmd}


def replaced(now: dict[int, str], first: dict[int, str], victim: int) -> bool:
    """One reading of the workers: three, the victim gone and a new one among them.

    Read twice, a victim still dying just after SIGKILL could count in the first reading and
    be gone from the second, so three workers passed for a restart that had not happened.
    """
    return len(now) == 3 and victim not in now and bool(set(now) - set(first))


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_mus_worker_runs_n_workers_restarts_a_killed_one_and_stops_all_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "MUS_WORKER_PROCESSES": "3",
        "MUS_WORKER_GRACE_SECONDS": "2",
    }
    log = tmp_path / "pool.log"
    with log.open("ab") as sink:
        pool = subprocess.Popen(
            [sys.executable, "-c", "from mus.cli import app; app()", "worker"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    seen: dict[int, str] = {}
    try:
        wait_until(lambda: len(workers_of(pool.pid)) == 3, 30, "three workers", log)
        first = workers_of(pool.pid)
        seen.update(first)
        wait_until(
            lambda: log.read_text().count("broker ") >= 3, 30, "every worker up on the broker", log
        )
        victim, *others = sorted(first)
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: replaced(workers_of(pool.pid), first, victim),
            30,
            "the killed worker replaced",
            log,
        )
        now = workers_of(pool.pid)
        seen.update(now)
        assert set(others) <= set(now)  # the other two ran on, untouched
        assert pool.poll() is None
        pool.send_signal(signal.SIGTERM)
        assert pool.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        stop_process_and_children(pool, signal.SIGTERM)
    output = log.read_text()
    assert "mus: started 3 worker processes: streaq-worker-1, streaq-worker-2, streaq-worker-3" in (
        output
    )
    assert "exited with code -9" in output and "restarted streaq-worker-" in output
    assert "mus: stopped" in output
    assert [pid for pid in seen if not gone(pid)] == []
