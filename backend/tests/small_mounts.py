"""Real resource faults on the file system: a small tmpfs mounted for one test, filled or
remounted read-only for real, and always unmounted afterwards.

Mounting needs root (CI runs as root): without it the test fails saying so, never skips.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MOUNT_TIMEOUT_SECONDS = 10


def _run(*command: str) -> None:
    subprocess.run(command, check=True, timeout=MOUNT_TIMEOUT_SECONDS, capture_output=True)


@contextmanager
def small_tmpfs(path: Path, size_bytes: int) -> Iterator[Path]:
    """A tmpfs of `size_bytes` at `path` for the block's duration."""
    if os.geteuid() != 0:
        pytest.fail(
            "this fault test mounts a small tmpfs and needs root (CI runs as root)",
            pytrace=False,
        )
    path.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(path))
    try:
        yield path
    finally:
        # Lazy: a file a failed test left open must not keep the mount for ever.
        subprocess.run(["umount", "-l", str(path)], check=False, timeout=MOUNT_TIMEOUT_SECONDS)


def remount(path: Path, *, read_only: bool) -> None:
    """Make the mount at `path` read-only or writable again."""
    _run("mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(path))


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Write a filler file until the file system has at most `leave_bytes` free."""
    filler = folder / ".filler"
    with filler.open("wb") as file:
        while True:
            free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
            if free <= leave_bytes:
                break
            try:
                file.write(b"\0" * min(4096, free - leave_bytes))
                file.flush()
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler


@pytest.fixture
def tmpfs_music(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs for a music folder (the caller points MUSIC_DIR_PATH at it)."""
    with small_tmpfs(tmp_path / "music-tmpfs", 8 * 1024 * 1024) as mounted:
        yield mounted
