"""The opener every reader of library files uses: O_NONBLOCK, so a FIFO behind an audio
name cannot block the open forever (the caller then sees it is not a regular file)."""

from __future__ import annotations

import os


def open_non_blocking(path: str, flags: int) -> int:
    """`open(path, "rb", opener=open_non_blocking)`: the file descriptor, opened non-blocking."""
    return os.open(path, flags | os.O_NONBLOCK)
