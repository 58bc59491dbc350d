"""The soak's load: busy processes that really spin, and are all gone afterwards."""

from __future__ import annotations

import os
import time
from pathlib import Path

from harness.machine_load import machine_load


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_busy_processes_spin_while_loaded_and_stop_after() -> None:
    with machine_load(2) as pids:
        assert len(pids) == 2
        deadline = time.monotonic() + 30
        while min(cpu_seconds(pid) for pid in pids) < 0.2:
            assert time.monotonic() < deadline, "the busy processes used no CPU in 30 s"
            time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)
