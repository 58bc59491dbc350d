"""`make bench`'s process sets: whatever happens in a measurement, no process outlives it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from benchmarks.worker_processes import ProcessDiedError, ProcessSet, process_set, tree_rss_mib

# Ignores SIGTERM and starts a child of its own: only SIGKILL of the group ends both.
STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def group_alive(group: int) -> bool:
    """Whether any process of the group still runs (a zombie awaiting its reaper does not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            return True
    return False


async def test_an_exception_in_the_measurement_still_stops_the_processes(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    groups: list[int] = []
    with pytest.raises(RuntimeError, match="measurement failed"):
        async with process_set("sleepers", [argv, argv], env=dict(os.environ), cwd=tmp_path,
                               log_dir=tmp_path) as processes:  # fmt: skip
            groups = processes.pids
            assert all(group_alive(group) for group in groups)
            raise RuntimeError("measurement failed")
    assert len(groups) == 2
    assert not any(group_alive(group) for group in groups)


async def test_a_process_ignoring_sigterm_is_killed_with_its_children(tmp_path: Path) -> None:
    processes = ProcessSet("stubborn", tmp_path)
    await processes.start([sys.executable, "-c", STUBBORN], env=dict(os.environ), cwd=tmp_path)
    log = processes.logs[0]
    for _ in range(200):
        if "ready" in log.read_text():
            break
        await asyncio.sleep(0.05)
    (group,) = processes.pids
    assert tree_rss_mib(group) > 0
    await processes.stop(grace_seconds=0.5)
    assert processes.processes[0].returncode == -signal.SIGKILL
    assert not group_alive(group)


async def test_a_process_that_died_is_reported_with_its_output(tmp_path: Path) -> None:
    processes = ProcessSet("crashing", tmp_path)
    argv = [sys.executable, "-c", "import sys; print('broker refused'); sys.exit(3)"]
    await processes.start(argv, env=dict(os.environ), cwd=tmp_path)
    await processes.processes[0].wait()
    with pytest.raises(ProcessDiedError, match="exited with 3:\nbroker refused"):
        processes.check_alive()
    await processes.stop()
