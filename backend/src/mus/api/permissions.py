"""Can this process read the music and write its data? Checked at start-up and on demand.

A container started with the wrong user or a read-only mount otherwise fails much later,
job by job; one clear report up front says which folder to fix.
"""

from __future__ import annotations

import os
from pathlib import Path

from mus.api.schemas import PathAccess, PermissionReport
from mus.core.config import Settings


def path_access(path: Path) -> PathAccess:
    """Existence and effective read/write access of one path (os.access, as this user)."""
    exists = path.exists()
    return PathAccess(
        path=str(path),
        exists=exists,
        readable=exists and os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)),
        writable=exists and os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)),
    )


def database_file_path(settings: Settings) -> Path:
    return settings.database_dir_path / "mus.db"


def check_permissions(settings: Settings) -> PermissionReport:
    """Music must be readable; data, covers and the database must be writable."""
    music = path_access(settings.music_dir_path)
    data = path_access(settings.data_dir_path.resolve())
    covers = path_access(settings.covers_dir_path)
    database_dir = path_access(settings.database_dir_path)
    database_file = path_access(database_file_path(settings))
    problems: list[str] = []
    if not music.readable:
        problems.append(f"music folder {music.path} is missing or not readable")
    elif not music.writable:
        problems.append(
            f"music folder {music.path} is read-only: uploads, tag edits and deletions will fail"
        )
    for label, access in (
        ("data folder", data),
        ("covers folder", covers),
        ("database folder", database_dir),
    ):
        if not access.writable:
            problems.append(f"{label} {access.path} is missing or not writable")
    if database_file.exists and not database_file.writable:
        problems.append(f"database file {database_file.path} is not writable")
    blocking = (
        not music.readable
        or not data.writable
        or not covers.writable
        or not database_dir.writable
        or (database_file.exists and not database_file.writable)
    )
    return PermissionReport(
        music_dir=music,
        data_dir=data,
        covers_dir=covers,
        database_dir=database_dir,
        database_file=database_file,
        ok=not blocking,
        problems=problems,
    )
