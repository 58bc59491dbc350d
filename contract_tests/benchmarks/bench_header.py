"""What a figure was measured on: date, machine, versions, broker, each backend's set-up."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import redis

from mus.core.broker_preflight import mask_url

REPOSITORY = Path(__file__).resolve().parents[2]


def machine() -> str:
    """Platform, CPU model and cores, RAM."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{platform.platform()}; {model}; {os.cpu_count()} cores; {ram_gib()} RAM"


def ram_gib() -> str:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return "unknown"
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def versions() -> str:
    names = ("arq", "streaq", "redis", "coredis")
    found = []
    for name in names:
        try:
            found.append(f"{name} {package_version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found).replace("redis ", "redis-py ", 1)


def mus_commit() -> str:
    """HEAD of the checkout the bench runs from, marked when the tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" (with uncommitted changes)" if dirty else "")


def broker(url: str) -> str:
    """Product and version as the broker reports them (INFO server)."""
    client = redis.Redis.from_url(url)
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
    finally:
        client.close()
    if "valkey_version" in info:
        product = f"Valkey {info['valkey_version']}"
    else:
        product = f"Redis {info['redis_version']}"
    return f"{product} at {mask_url(url)}"


def header_lines(redis_url: str, backends: dict[str, str]) -> list[str]:
    """Markdown bullet lines; `backends` maps a backend's name to its set-up."""
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- Python {platform.python_version()}; {versions()}",
        f"- mus commit: {mus_commit()}",
        f"- broker: {broker(redis_url)}",
    ]
    lines += [f"- {name}: {setup}" for name, setup in backends.items()]
    return lines
