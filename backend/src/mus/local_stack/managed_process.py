"""A child process `mus run` owns: started in its own session, stopped politely, then for sure.

Own session so that a terminal's Ctrl-C reaches only `mus run`, which then stops its children
in order (api and workers before the Redis they use). On Linux each child also gets SIGTERM
if `mus run` itself dies without cleaning up, so no orphan keeps a port or a queue busy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
DEFAULT_STOP_TIMEOUT_SECONDS = 10.0


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when its parent dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return hook


class ManagedProcess:
    """One named child: `start()`, `poll()`, `terminate()`, `kill()`, `wait()`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        """`time.monotonic()` of the latest start."""

    def start(self) -> None:
        """Spawn the child; its output goes to ours so logs interleave in one terminal."""
        if self._popen is not None:
            raise RuntimeError(f"{self.name} was already started")
        self._spawn()

    def restart(self) -> None:
        """Spawn the same command again once the previous child has ended (reaped)."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is still running")
        self._spawn()

    def _spawn(self) -> None:
        self.started_at = time.monotonic()
        self._popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_parent_death_signal(),  # noqa: PLW1509 - only prctl, before exec
        )

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def started(self) -> bool:
        return self._popen is not None

    def poll(self) -> int | None:
        """The exit code once the child has ended, else None (also None if never started)."""
        return self._popen.poll() if self._popen is not None else None

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM); a no-op once it has ended."""
        if self.is_running():
            assert self._popen is not None
            self._popen.terminate()

    def kill(self) -> None:
        """Stop the child now (SIGKILL); a no-op once it has ended."""
        if self.is_running():
            assert self._popen is not None
            self._popen.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if the child still runs after `timeout` seconds."""
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def stop_processes(
    processes: Iterable[ManagedProcess], timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS
) -> list[ManagedProcess]:
    """SIGTERM all at once, give them `timeout` seconds together, then SIGKILL the rest.

    Returns the ones that had to be killed, so the caller can say so.
    """
    running = [process for process in processes if process.is_running()]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    killed: list[ManagedProcess] = []
    for process in running:
        if process.wait(max(0.0, deadline - time.monotonic())) is None:
            process.kill()
            process.wait()
            killed.append(process)
    return killed
