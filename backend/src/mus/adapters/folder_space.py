"""How a folder mus writes into stands: its free space, and whether it is mounted read-only.

Read from the file system (statvfs), never from a write test: the healthcheck and `/admin`
call it often, and a probe file in the music folder would be a change the user never asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mus.core.config import Settings

MIB = 1024 * 1024


class FolderState(StrEnum):
    """What a person needs to know about a folder, worst first when several hold."""

    OK = "ok"
    LOW_ON_SPACE = "low on space"
    FULL = "full"
    READ_ONLY = "read-only"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class FolderSpace:
    """One folder's figures (None where the folder cannot be measured)."""

    path: str
    free_bytes: int | None
    total_bytes: int | None
    read_only: bool
    state: FolderState


def measure_folder(path: Path, warning_bytes: int) -> FolderSpace:
    """Free space (for an unprivileged writer) and the read-only flag of `path`'s file system.

    Full below one block free; low below `warning_bytes`; read-only wins over both (nothing
    can be written whatever the space). Blocking: call it in a thread.
    """
    try:
        status = os.statvfs(path)
    except OSError:
        return FolderSpace(str(path), None, None, False, FolderState.MISSING)
    free = status.f_bavail * status.f_frsize
    total = status.f_blocks * status.f_frsize
    read_only = bool(status.f_flag & os.ST_RDONLY)
    if read_only:
        state = FolderState.READ_ONLY
    elif free < status.f_frsize:
        state = FolderState.FULL
    elif free < warning_bytes:
        state = FolderState.LOW_ON_SPACE
    else:
        state = FolderState.OK
    return FolderSpace(str(path), free, total, read_only, state)


def measure_folders(settings: Settings) -> tuple[FolderSpace, FolderSpace]:
    """(data folder, music folder) as they stand, against the warning threshold (blocking)."""
    warning = settings.free_space_warning_mb * MIB
    return (
        measure_folder(settings.data_dir_path.resolve(), warning),
        measure_folder(settings.music_dir_path, warning),
    )
