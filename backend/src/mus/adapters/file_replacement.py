"""A user's file changed without ever being half-written: a copy beside it, changed, fsynced,
then renamed over it.

A tag writer that edits the file in place and meets a full disk (ENOSPC) or a crash leaves it
cut or grown (a WAV tag edit grew a file by 714 bytes). Here the change goes to a hidden copy
in the same folder (same filesystem, so the rename is atomic); the original is replaced only
once the copy is complete and on disk, and any failure removes the copy, leaving the
original byte-identical. Blocking: call it in a thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

TEMP_PREFIX = ".mus-"
TEMP_SUFFIX = ".part"
COPY_CHUNK_BYTES = 1024 * 1024


def temp_name_for(path: Path) -> str:
    """A fresh hidden name beside `path` (the watcher and the scanner skip hidden files)."""
    return f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}{TEMP_SUFFIX}"


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a crash after it cannot bring the old name back)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_beside(path: Path, temp: Path) -> None:
    status = path.stat()
    with path.open("rb") as source, temp.open("xb") as copy:
        shutil.copyfileobj(source, copy, COPY_CHUNK_BYTES)
    temp.chmod(status.st_mode & 0o7777)
    with contextlib.suppress(PermissionError):  # not root: the copy is ours, as is the file
        os.chown(temp, status.st_uid, status.st_gid)


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_with_changed_copy(
    path: Path, change: Callable[[Path], None], temp_name: str | None = None
) -> os.stat_result:
    """Copy `path` to `temp_name` in its folder, `change(copy)`, fsync, rename over `path`.

    Whatever `change` or the disk raises is raised again after the copy is removed: `path`
    is then exactly as it was. Returns the stat of the replaced file.
    """
    temp = path.with_name(temp_name or temp_name_for(path))
    try:
        _copy_beside(path, temp)
        change(temp)
        _fsync_file(temp)
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_folder(path.parent)
    return path.stat()


def remove_leftover(folder: Path, temp_name: str) -> bool:
    """Remove a copy a crash left behind (by its recorded name); returns whether it was there."""
    try:
        (folder / temp_name).unlink()
    except FileNotFoundError:
        return False
    return True
