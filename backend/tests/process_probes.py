"""Watching real processes and servers from a test: ports, /proc children, HTTP polls."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gone(pid: int) -> bool:
    """Ended (a zombie nobody reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def children_of(pid: int) -> dict[int, str]:
    """Direct children of `pid` with their command lines, read from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode().strip()
    return found


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def status_of(url: str) -> int | None:
    """HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll until `predicate` holds; on timeout fail with the tail of the process log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    output = log.read_text(errors="replace")[-5000:] if log is not None else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{output}")


def stop_process_and_children(
    process: subprocess.Popen[bytes], stop_signal: int, grace_seconds: float = 30
) -> None:
    """After a failed test: let the process stop its children, then kill whatever is left.

    A bare kill() would orphan the children (an api still bound to its port, a redis-server).
    """
    if process.poll() is not None:
        return
    children = children_of(process.pid)
    process.send_signal(stop_signal)
    try:
        process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in children:
        if not gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
