"""podman and podman-compose as the smoke run calls them: every call bounded in time, logged.

podman-compose comes from PyPI at a pinned version (Debian 12's 1.0.3 knows neither compose
profiles nor `stop_grace_period`), run by uvx so it never enters the product's environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PODMAN_COMPOSE = ["uvx", "--quiet", "--from", "podman-compose==1.6.0", "podman-compose"]
DEFAULT_TIMEOUT = 600.0


class SmokeCheckError(AssertionError):
    """A check failed: the message says what a person would have seen."""


def run(
    command: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """One command run to its end within `timeout`; its output printed when it fails."""
    completed = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    if check and completed.returncode != 0:
        if not quiet:
            print(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SmokeCheckError(f"`{' '.join(command)}` exited {completed.returncode}")
    return completed


def podman(*args: str, timeout: float = 120.0, check: bool = True) -> str:
    return run(["podman", *args], timeout=timeout, check=check).stdout.strip()


def inspect(container: str) -> dict[str, Any]:
    """`podman inspect` of one container."""
    document: list[dict[str, Any]] = json.loads(podman("inspect", container))
    return document[0]


def wait_for(what: str, condition: Any, timeout: float, interval: float = 1.0) -> Any:
    """Poll `condition()` until it returns something true, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OSError, ValueError, KeyError, SmokeCheckError, subprocess.SubprocessError) as exc:
            value, last_error = None, f" (last: {exc})"
        if value:
            return value
        time.sleep(interval)
    raise SmokeCheckError(f"{what}: not within {timeout:.0f} s{last_error}")


def cleanup(prefix: str) -> None:
    """Remove every container, volume and network whose name starts with `prefix` (bounded)."""
    if shutil.which("podman") is None:
        print("cleanup: podman is not installed, nothing to remove")
        return
    for kind, listing in (
        ("container", ["ps", "-a", "--format", "{{.Names}}"]),
        ("volume", ["volume", "ls", "--format", "{{.Name}}"]),
        ("network", ["network", "ls", "--format", "{{.Name}}"]),
    ):
        try:
            names = [
                name
                for name in podman(*listing, timeout=60, check=False).split()
                if name.startswith(prefix)
            ]
            if not names:
                continue
            remove = (
                ["rm", "-f", "-v", "-t", "2", *names]
                if kind == "container"
                else [kind, "rm", "-f", *names]
            )
            podman(*remove, timeout=120, check=False)
            print(f"cleanup: removed {kind}s {', '.join(names)}")
        except subprocess.TimeoutExpired:
            print(f"cleanup: podman did not list or remove the {kind}s in time")
