"""Library paths as the API handles them: relative in the database, checked on the way out."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path, PurePosixPath

from fastapi import HTTPException, status

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.file_operation_repository import (
    FileOperationRepository,
    TargetTakenError,
)
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.library_path import (
    PathOutsideLibraryError,
    SymlinkLoopError,
    relative_library_path,
)
from mus.core.config import Settings
from mus.domain.file_naming import candidate_paths
from mus.domain.file_operation import FileOperation, FileOperationKind
from mus.domain.track import Track

# Where uploads are received before they move into place: same filesystem as the library
# (so the move is a rename), hidden so the scanner and the watcher skip it.
UPLOADS_FOLDER = ".uploads"
UPLOAD_TEMP_PREFIX = ".upload-"
UPLOAD_TEMP_SUFFIX = ".part"
STALE_UPLOAD_SECONDS = 6 * 3600
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


def track_file(settings: Settings, track: Track) -> Path:
    """Absolute path of a track's file; a row pointing outside the library is a 404."""
    root = settings.music_dir_path
    candidate = root / track.file_path
    try:
        relative_library_path(candidate, root)
    except SymlinkLoopError:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"the file of track {track.id} is a symlink loop: {track.file_path}",
        ) from None
    except PathOutsideLibraryError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"track {track.id} points outside the music folder: {track.file_path}",
        ) from None
    return candidate


def missing_file_detail(track: Track) -> str:
    return (
        f"the file of track {track.id} is missing from the music folder: {track.file_path} "
        "(the library will drop it on the next scan)"
    )


async def reserve_library_path(
    database: Database,
    music_root: Path,
    folder: PurePosixPath,
    stem: str,
    extension: str,
    *,
    kind: FileOperationKind,
    track_id: int | None = None,
    source_path: str | None = None,
    keep: str | None = None,
) -> tuple[str, FileOperation | None]:
    """First free `folder/stem[ (n)].ext`, promised to this operation by its recorded intent.

    Free means on neither the disk, a row, nor another unfinished operation; the intent's
    unique target makes the promise atomic, so requests racing for one name get `(2)`,
    `(3)` as they would one after another. A track's older rename intents are replaced
    (a later edit supersedes them). `keep` (the track's own path) is free and needs no
    operation: `(keep, None)`.
    """
    async with database.session() as session:
        tracks = TrackRepository(session)
        operations = FileOperationRepository(session)
        if track_id is not None and kind is FileOperationKind.RENAME:
            await operations.forget_track(track_id, FileOperationKind.RENAME)
        for candidate in candidate_paths(folder, stem, extension):
            if candidate == keep:
                return candidate, None
            on_disk = await asyncio.to_thread(os.path.lexists, music_root / candidate)
            if on_disk or await tracks.get_by_path(candidate) is not None:
                continue
            try:
                operation = await operations.record(
                    kind, track_id=track_id, source_path=source_path, target_path=candidate
                )
            except TargetTakenError:
                continue
            return candidate, operation
    raise HTTPException(status.HTTP_409_CONFLICT, detail=f"no free file name for {stem}")


async def forget_operation(database: Database, operation_id: int) -> None:
    """An intent whose action will not happen (its job could not be queued)."""
    async with database.session() as session:
        await FileOperationRepository(session).finish(operation_id)


def move_without_overwrite(source: Path, destination: Path) -> None:
    """Move a file into place, failing with FileExistsError rather than replacing one."""
    try:
        os.link(source, destination)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # Filesystems without hard links: a check then a rename (a tiny race, no data loss
        # beyond the race window the watcher and locks already accept).
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "file exists", str(destination)) from exc
        source.rename(destination)
        return
    source.unlink()


def clear_stale_uploads(music_root: Path, older_than_seconds: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove upload temp files a crash left behind; returns how many.

    Only old ones: another api process sharing the library may be receiving one right now.
    """
    folder = music_root / UPLOADS_FOLDER
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in folder.glob(f"{UPLOAD_TEMP_PREFIX}*{UPLOAD_TEMP_SUFFIX}"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
