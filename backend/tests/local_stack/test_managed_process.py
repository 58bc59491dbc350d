"""Children of `mus run`: own session, polite stop, forced stop, no orphan when we die."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mus.local_stack.managed_process import ManagedProcess, stop_processes

from tests.process_probes import gone


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


def python_child(name: str, code: str) -> ManagedProcess:
    return ManagedProcess(name, [sys.executable, "-c", textwrap.dedent(code)])


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_a_child_runs_in_its_own_session_so_ctrl_c_reaches_only_mus_run(tmp_path: Path) -> None:
    child = python_child("sleeper", "import time; time.sleep(60)")
    assert child.poll() is None and not child.started
    child.start()
    try:
        assert child.pid is not None
        assert os.getsid(child.pid) == child.pid
        assert os.getsid(child.pid) != os.getsid(0)
        with pytest.raises(RuntimeError, match="already started"):
            child.start()
    finally:
        assert stop_processes([child], timeout=5) == []
    assert child.poll() == -15


def test_stop_processes_lets_children_shut_down_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    cleaned = tmp_path / "cleaned"
    child = python_child(
        "polite",
        f"""
        import pathlib, signal, sys, time
        def bye(signum, frame):
            pathlib.Path({str(cleaned)!r}).write_text("bye")
            sys.exit(0)
        signal.signal(signal.SIGTERM, bye)
        pathlib.Path({str(ready)!r}).write_text("ready")
        time.sleep(60)
        """,
    )
    child.start()
    wait_for_file(ready)
    assert stop_processes([child], timeout=5) == []
    assert child.poll() == 0
    assert cleaned.read_text() == "bye"


def test_stop_processes_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    stubborn = python_child(
        "stubborn",
        f"""
        import pathlib, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pathlib.Path({str(ready)!r}).write_text("ready")
        time.sleep(60)
        """,
    )
    polite = python_child("polite", "import time; time.sleep(60)")
    stubborn.start()
    polite.start()
    wait_for_file(ready)
    started = time.monotonic()
    killed = stop_processes([stubborn, polite], timeout=1.0)
    assert [process.name for process in killed] == ["stubborn"]
    assert stubborn.poll() == -9
    assert polite.poll() == -15
    assert time.monotonic() - started < 5


def test_children_do_not_outlive_a_parent_that_dies_without_cleaning_up(tmp_path: Path) -> None:
    parent_code = textwrap.dedent(
        """
        import os, sys
        from mus.local_stack.managed_process import ManagedProcess
        child = ManagedProcess("orphan", [sys.executable, "-c", "import time; time.sleep(60)"])
        child.start()
        print(child.pid, flush=True)
        os._exit(0)  # no stop(): as if mus run was SIGKILLed
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", parent_code], capture_output=True, text=True, timeout=30, check=True
    )
    child_pid = int(result.stdout.strip())
    assert wait_gone(child_pid, timeout=10), f"child {child_pid} outlived its parent"
