"""Real processes for one measurement: started in sessions of their own, always stopped.

Every process is the leader of its own process group, so a stop reaches whatever it
started. Stopping sends SIGTERM to each group, then SIGKILL to any still there after a
grace; an `atexit` hook kills what a crash or a Ctrl-C left, so no run leaves processes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_SECONDS = 10.0
LOG_TAIL_CHARS = 2000

_LIVE_GROUPS: set[int] = set()


def _kill_leftovers() -> None:
    for group in list(_LIVE_GROUPS):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    _LIVE_GROUPS.clear()


atexit.register(_kill_leftovers)


@dataclass(frozen=True, slots=True)
class Memory:
    """Resident memory of a set of processes (each with its descendants), MiB."""

    total_mib: float
    largest_mib: float


class ProcessDiedError(RuntimeError):
    """A process of the set exited while it was meant to be running."""


class ProcessSet:
    """Processes started together (one backend's workers, or an api) and stopped together."""

    def __init__(self, name: str, log_dir: Path) -> None:
        self.name = name
        self.log_dir = log_dir
        self.processes: list[asyncio.subprocess.Process] = []
        self.logs: list[Path] = []

    async def start(self, argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> None:
        log = self.log_dir / f"{self.name}-{len(self.processes)}.log"
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE_GROUPS.add(process.pid)
        self.processes.append(process)
        self.logs.append(log)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def check_alive(self) -> None:
        """Raise with the log's tail when a process has exited."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.returncode is not None:
                tail = log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
                raise ProcessDiedError(
                    f"{self.name} process {process.pid} exited with {process.returncode}:\n{tail}"
                )

    def kill(self) -> None:
        """SIGKILL every group now (the fault of the recovery row)."""
        for process in self.processes:
            _signal_group(process.pid, signal.SIGKILL)

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL what is left after the grace; reaps every process."""
        for process in self.processes:
            if process.returncode is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in self.processes:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            _signal_group(process.pid, signal.SIGKILL)  # the group: children too
            await process.wait()
            _LIVE_GROUPS.discard(process.pid)

    def memory(self) -> Memory:
        sizes = [tree_rss_mib(pid) for pid in self.pids]
        return Memory(sum(sizes), max(sizes, default=0.0))


def _signal_group(group: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, number)


@asynccontextmanager
async def process_set(
    name: str, argvs: Sequence[Sequence[str]], *, env: dict[str, str], cwd: Path, log_dir: Path
) -> AsyncIterator[ProcessSet]:
    """Start every argv; on leaving (normally, by an exception or a cancellation) stop them."""
    processes = ProcessSet(name, log_dir)
    try:
        for argv in argvs:
            await processes.start(argv, env=env, cwd=cwd)
        yield processes
    finally:
        await asyncio.shield(processes.stop())


def rss_mib(pid: int) -> float:
    """VmRSS of one process from /proc, MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree_rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants (e.g. streaq's `--workers` children), MiB."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += rss_mib(current)
        pending += children_of(current)
    return total
