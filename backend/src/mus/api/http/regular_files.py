"""Opening and reading the files the api serves without ever blocking the server.

Only regular files are opened: a FIFO or a device put where a track was would block an
ordinary `open()` forever. The type is checked before the open, and the open itself is
non-blocking, so a file swapped for a FIFO in between cannot block either. Reads run on
their own small thread pool: a slow disk then delays streams, never request handling.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FILE_IO_THREADS = 16
_FILE_IO = ThreadPoolExecutor(max_workers=FILE_IO_THREADS, thread_name_prefix="mus-file-io")
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class NotARegularFileError(OSError):
    """The path exists but is a FIFO, socket or device: it is never opened."""


@dataclass(slots=True)
class OpenFile:
    """A descriptor on a regular file and its status at open time."""

    descriptor: int
    status: os.stat_result

    async def read_at(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes from `offset`, read on the file I/O pool."""
        return await _run(os.pread, self.descriptor, size, offset)

    async def close(self) -> None:
        await _run(os.close, self.descriptor)


def _open_regular(path: Path) -> OpenFile:
    before = path.stat()
    if stat.S_ISDIR(before.st_mode):
        raise IsADirectoryError(path)
    _refuse_special(before, path)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(path)
        _refuse_special(status, path)
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return OpenFile(descriptor, status)


def _refuse_special(status: os.stat_result, path: Path) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise NotARegularFileError(f"{path.name} is not a regular file")


async def open_regular_file(path: Path) -> OpenFile:
    """Open `path` for reading if it is a regular file; raises NotARegularFileError if not.

    FileNotFoundError, IsADirectoryError, PermissionError... pass through as raised by the OS.
    """
    return await _run(_open_regular, path)


async def _run(function: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_FILE_IO, function, *args)
