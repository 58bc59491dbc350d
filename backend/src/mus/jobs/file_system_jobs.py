"""Jobs that follow the music folder: created, modified, deleted, moved files and user deletion.

Every job takes relative library paths or track ids (JSON primitives), is idempotent, and
reports what it did as a small dict; a file problem becomes an outcome, never a crash.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from pathlib import Path
from typing import Any

from mus.adapters.events.event_publisher import EventType
from mus.adapters.file_replacement import fsync_folder
from mus.adapters.path_locks import WAIT_SECONDS, path_mutex
from mus.adapters.persistence.file_operation_repository import (
    FileOperationRepository,
    TargetTakenError,
)
from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.player_state_repository import PlayerStateRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.resource_faults import is_transient
from mus.adapters.scanner.fast_metadata import (
    EmptyAudioFileError,
    NotARegularFileError,
    read_fast_metadata,
)
from mus.adapters.scanner.library_path import PathOutsideLibraryError, relative_library_path
from mus.adapters.track_writer import rename_superseded, track_mutex
from mus.application.job_outbox import keep_job
from mus.domain.file_operation import FileOperation, FileOperationKind
from mus.domain.track import FastMetadata, Track, TrackError
from mus.jobs.runtime import JobRuntime, get_job_runtime

logger = logging.getLogger(__name__)

JobResult = dict[str, Any]


def library_file(runtime: JobRuntime, file_path: str) -> Path:
    """Absolute path of a library-relative path; refuses one that escapes the music folder."""
    root = runtime.settings.music_dir_path
    candidate = root / file_path
    relative_library_path(candidate, root)
    return candidate


async def record_failure(
    runtime: JobRuntime,
    track_id: int,
    job_name: str,
    message: str,
    operation_id: int | None = None,
) -> None:
    """Mark the track ERROR with why, and tell clients; the worker itself carries on.

    The user's file operation, if any, is kept as failed in the same transaction: a
    requeue of the error redoes it.
    """
    error = TrackError(job_name=job_name, error_message=message, timestamp=utc_now())
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        await repo.mark_error(track_id, error)
        if operation_id is not None:
            await FileOperationRepository(session).fail(operation_id, message)
        track = await repo.get(track_id)
    if track is not None:
        await runtime.events.publish_track(EventType.TRACK_ERROR, track)


async def index_file(file_path: str, *, job_name: str) -> JobResult:
    """Read fast metadata and upsert; queue slow analysis when the content is new or changed."""
    runtime = get_job_runtime()
    async with path_mutex(runtime.redis, [file_path]):
        return await _index_file(runtime, file_path, job_name)


def _read_or_refuse(runtime: JobRuntime, file_path: str) -> FastMetadata | JobResult:
    """The file's fast metadata, or the outcome that says why it has none (blocking): one
    rule for a single new file and for each file of a batch."""
    try:
        absolute = library_file(runtime, file_path)
        return read_fast_metadata(absolute, runtime.settings.music_dir_path)
    except (PathOutsideLibraryError, NotARegularFileError) as exc:
        return {"outcome": "rejected", "reason": str(exc)}
    except FileNotFoundError:
        return {"outcome": "missing"}
    except EmptyAudioFileError:
        # Still being written: the modification that fills it will come as its own event.
        return {"outcome": "empty"}


async def _index_file(runtime: JobRuntime, file_path: str, job_name: str) -> JobResult:
    metadata = await asyncio.to_thread(_read_or_refuse, runtime, file_path)
    if not isinstance(metadata, FastMetadata):
        return metadata
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        track, before = await repo.upsert_one(metadata)
        changed = before is None or before.content_hash != metadata.content_hash
        # Committed with the row: a crash right after the commit cannot strand it PENDING.
        kept = (
            [
                await keep_job(
                    session, "process_slow_metadata", track_id=track.id, revision=track.revision
                )
            ]
            if changed
            else []
        )
    if not changed:
        return {"outcome": "unchanged", "track_id": track.id}
    # Published before the analysis is relayed: a worker may start it at once, and its
    # event must not reach clients before this one (events follow the order of the changes).
    event = EventType.TRACK_ADDED if before is None else EventType.TRACK_UPDATED
    await runtime.events.publish_track(event, track)
    await runtime.relay.send(kept)
    logger.info("%s: %s indexed (track %d)", job_name, file_path, track.id)
    return {"outcome": "added" if before is None else "updated", "track_id": track.id}


async def handle_files_created(file_paths: list[str]) -> JobResult:
    """New audio files that appeared together (a copy of an album, a collection): indexed in
    one transaction, their slow analysis chained as one batch job.

    Each file is decided as `handle_file_created` decides it (rejected, missing, empty,
    unchanged, added, updated); the counts are the job's result.
    """
    runtime = get_job_runtime()
    paths = list(dict.fromkeys(file_paths))
    async with path_mutex(runtime.redis, paths):
        return await _index_files(runtime, paths, "handle_files_created")


async def _index_files(runtime: JobRuntime, paths: list[str], job_name: str) -> JobResult:
    outcomes: dict[str, int] = {}

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    read = await asyncio.to_thread(lambda: [_read_or_refuse(runtime, path) for path in paths])
    found = [metadata for metadata in read if isinstance(metadata, FastMetadata)]
    for refused in read:
        if not isinstance(refused, FastMetadata):
            count(refused["outcome"])
    indexed: list[tuple[Track, Track | None]] = []
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        for metadata in found:
            track, before = await repo.upsert_one(metadata)
            if before is not None and before.content_hash == metadata.content_hash:
                count("unchanged")
            else:
                indexed.append((track, before))
        # Committed with the rows: a crash right after the commit cannot strand them PENDING.
        kept = (
            [
                await keep_job(
                    session,
                    "process_slow_metadata_batch",
                    track_ids=[track.id for track, _ in indexed],
                    revisions=[track.revision for track, _ in indexed],
                )
            ]
            if indexed
            else []
        )
    # Published before the analysis is relayed, as for one file (events follow the changes).
    for track, before in indexed:
        count("added" if before is None else "updated")
        event = EventType.TRACK_ADDED if before is None else EventType.TRACK_UPDATED
        await runtime.events.publish_track(event, track)
    await runtime.relay.send(kept)
    logger.info(
        "%s: %d of %d files indexed (%s)",
        job_name,
        len(indexed),
        len(paths),
        ", ".join(f"{number} {outcome}" for outcome, number in sorted(outcomes.items())),
    )
    return {"outcome": "batch", "files": len(paths), "outcomes": dict(sorted(outcomes.items()))}


async def handle_file_created(file_path: str) -> JobResult:
    """A new audio file appeared in the music folder."""
    return await index_file(file_path, job_name="handle_file_created")


async def handle_file_modified(file_path: str) -> JobResult:
    """An audio file changed; an unchanged fingerprint (our own write's echo) does nothing."""
    return await index_file(file_path, job_name="handle_file_modified")


async def forget_track(runtime: JobRuntime, track: Track) -> None:
    """Remove a track's row, covers, player reference and file intents, then tell clients."""
    async with runtime.database.session() as session:
        await TrackRepository(session).delete(track.id)
        await PlayerStateRepository(session).forget_track(track.id)
        await FileOperationRepository(session).forget_track(track.id)
    await asyncio.to_thread(runtime.covers.delete, track.id)
    await runtime.events.publish(
        EventType.TRACK_DELETED, track_id=track.id, file_path=track.file_path
    )


async def handle_file_deleted(file_path: str) -> JobResult:
    """A file left the music folder; a file that is back by now is kept."""
    runtime = get_job_runtime()
    async with path_mutex(runtime.redis, [file_path]):
        return await _forget_deleted_file(runtime, file_path)


async def _forget_deleted_file(runtime: JobRuntime, file_path: str) -> JobResult:
    async with runtime.database.session() as session:
        track = await TrackRepository(session).get_by_path(file_path)
    if track is None:
        return {"outcome": "unknown"}
    if library_file(runtime, file_path).exists():
        return {"outcome": "still_present", "track_id": track.id}
    await forget_track(runtime, track)
    return {"outcome": "deleted", "track_id": track.id}


async def handle_file_moved(src_path: str, dest_path: str) -> JobResult:
    """A rename or move: the row follows the file, keeping status, covers and id."""
    runtime = get_job_runtime()
    try:
        destination = library_file(runtime, dest_path)
    except PathOutsideLibraryError as exc:
        return {"outcome": "rejected", "reason": str(exc)}
    async with path_mutex(runtime.redis, [src_path, dest_path]):
        return await _follow_move(runtime, src_path, dest_path, destination)


async def _follow_move(
    runtime: JobRuntime, src_path: str, dest_path: str, destination: Path
) -> JobResult:
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        track = await repo.get_by_path(src_path)
        occupant = await repo.get_by_path(dest_path)
    if track is None:
        return await _index_file(runtime, dest_path, "handle_file_moved")
    if not await asyncio.to_thread(destination.exists):
        if await asyncio.to_thread(library_file(runtime, src_path).exists):
            return {"outcome": "missing", "track_id": track.id}
        # Gone from both places: the file left the library after its move. The deletion
        # of the destination cannot remove the row (it still has the source's path), and
        # may already have run, queued at high before this move at medium: forget it here.
        await forget_track(runtime, track)
        return {"outcome": "deleted", "track_id": track.id}
    if occupant is not None and occupant.id != track.id:
        await forget_track(runtime, occupant)
    stat = await asyncio.to_thread(destination.stat)
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        await repo.update_fields(
            track.id, file_path=dest_path, inode=stat.st_ino, file_mtime=stat.st_mtime
        )
        moved = await repo.get(track.id)
    assert moved is not None
    await runtime.events.publish_track(EventType.TRACK_UPDATED, moved)
    if track.file_mtime is not None and stat.st_mtime != track.file_mtime:
        # A rename keeps mtime. A different one means other content arrived (or the OS
        # reused a freed inode for a new file): index it like a modification.
        reindexed = await _index_file(runtime, dest_path, "handle_file_moved")
        return {"outcome": "moved", "track_id": track.id, "content": reindexed["outcome"]}
    return {"outcome": "moved", "track_id": track.id}


async def delete_track_with_files(track_id: int) -> JobResult:
    """User deletion: the file, its covers and its row go; the watcher ignores the echo.

    The intent is on record before the file goes (the api's, or the job's own), and the
    row leaves with it in one transaction: a crash or a database failure in between
    leaves the intent, and the job run again (a retry, the reconciler) finds the file gone
    and removes the row. No file is removed while its intent cannot be written.
    """
    runtime = get_job_runtime()
    async with runtime.database.session() as session:
        track = await TrackRepository(session).get(track_id)
        operations = FileOperationRepository(session)
        operation = None if track is None else await _delete_intent(operations, track)
    if track is None or operation is None:
        async with runtime.database.session() as session:
            await FileOperationRepository(session).forget_track(track_id)
        return {"outcome": "unknown"}
    job = "delete_track_with_files"
    try:
        absolute = library_file(runtime, track.file_path)
        async with runtime.write_lock.hold([track.file_path]):
            await asyncio.to_thread(absolute.unlink, missing_ok=True)
    except (OSError, PathOutsideLibraryError) as exc:
        if is_transient(exc):
            raise  # a read-only folder for now: the job waits it out (resource_wait)
        await record_failure(runtime, track.id, job, f"cannot delete: {exc}", operation.id)
        return {"outcome": "error", "track_id": track.id}
    await forget_track(runtime, track)
    return {"outcome": "deleted", "track_id": track.id}


async def _delete_intent(operations: FileOperationRepository, track: Track) -> FileOperation:
    """The track's delete intent: the one the api recorded, else recorded now."""
    earlier = await operations.for_track(track.id, FileOperationKind.DELETE)
    if earlier:
        await operations.touch(earlier[0].id)
        return earlier[0]
    return await operations.record(
        FileOperationKind.DELETE, track_id=track.id, source_path=track.file_path
    )


async def update_track_path_by_id(track_id: int, new_file_path: str) -> JobResult:
    """Rename a track's file (API edit with rename) under the write lock, then its row.

    Runs as the track's only writer (its mutex); a rename a later edit replaced is skipped.
    """
    runtime = get_job_runtime()
    async with track_mutex(runtime.redis, track_id, wait_seconds=WAIT_SECONDS):
        if await rename_superseded(runtime.redis, track_id, new_file_path):
            return {"outcome": "superseded", "track_id": track_id}
        async with runtime.database.session() as session:
            track = await TrackRepository(session).get(track_id)
        if track is None:
            return {"outcome": "unknown"}
        # The file jobs of both paths (an outside edit's re-index, a move) wait for the
        # rename, and it for them: none can index the old path after the row has left it.
        async with path_mutex(runtime.redis, [track.file_path, new_file_path]):
            return await _rename_track(runtime, track_id, new_file_path)


async def _rename_intent(
    runtime: JobRuntime, track: Track, new_file_path: str
) -> FileOperation | str:
    """The rename's intent (the api's, or recorded now); a message if the target is promised
    to another operation."""
    async with runtime.database.session() as session:
        operations = FileOperationRepository(session)
        for operation in await operations.for_track(track.id, FileOperationKind.RENAME):
            if operation.target_path == new_file_path:
                await operations.touch(operation.id)
                return operation
        try:
            return await operations.record(
                FileOperationKind.RENAME,
                track_id=track.id,
                source_path=track.file_path,
                target_path=new_file_path,
            )
        except TargetTakenError:
            return f"cannot rename: {new_file_path} is promised to another file"


async def _rename_track(runtime: JobRuntime, track_id: int, new_file_path: str) -> JobResult:
    async with runtime.database.session() as session:
        track = await TrackRepository(session).get(track_id)
    if track is None:
        return {"outcome": "unknown"}
    job = "update_track_path_by_id"
    if track.file_path == new_file_path:
        async with runtime.database.session() as session:
            await FileOperationRepository(session).forget_target(track.id, new_file_path)
        return {"outcome": "unchanged", "track_id": track.id}
    try:
        source = library_file(runtime, track.file_path)
        destination = library_file(runtime, new_file_path)
    except PathOutsideLibraryError as exc:
        await record_failure(runtime, track.id, job, str(exc))
        return {"outcome": "error", "track_id": track.id}
    operation = await _rename_intent(runtime, track, new_file_path)
    if isinstance(operation, str):
        await record_failure(runtime, track.id, job, operation)
        return {"outcome": "error", "track_id": track.id}
    source_there, destination_there = await asyncio.to_thread(
        lambda: (os.path.lexists(source), os.path.lexists(destination))
    )
    if destination_there and source_there:
        message = f"cannot rename: {new_file_path} exists"
        await record_failure(runtime, track.id, job, message, operation.id)
        return {"outcome": "error", "track_id": track.id}
    if not destination_there:  # else: renamed before a crash, only the row is left to do
        try:
            async with runtime.write_lock.hold([track.file_path, new_file_path]):
                await asyncio.to_thread(_rename_durably, source, destination)
        except OSError as exc:
            if is_transient(exc):
                raise  # a read-only or full folder for now: the job waits it out (resource_wait)
            message = f"cannot rename: {exc.strerror or exc}"
            await record_failure(runtime, track.id, job, message, operation.id)
            return {"outcome": "error", "track_id": track.id}
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        await repo.update_fields(track.id, file_path=new_file_path)
        await FileOperationRepository(session).finish(operation.id)
        # A requeued rename was ERROR, now PENDING: its analysis runs again once renamed.
        kept = (
            [
                await keep_job(
                    session, "process_slow_metadata", track_id=track.id, revision=track.revision
                )
            ]
            if operation.details.get("requeued")
            else []
        )
        renamed = await repo.get(track.id)
    assert renamed is not None
    await runtime.relay.send(kept)
    await runtime.events.publish_track(EventType.TRACK_UPDATED, renamed)
    # An outside edit that landed before the rename is in the file now, and its own job
    # will find the old path empty: index the new path (a no-op when nothing changed).
    await _index_file(runtime, new_file_path, job)
    return {"outcome": "renamed", "track_id": track.id}


def _rename_durably(source: Path, destination: Path) -> None:
    """Rename, refusing to replace a file, and make the new name survive a crash."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(destination):
        raise FileExistsError(errno.EEXIST, "file exists", str(destination))
    source.rename(destination)
    fsync_folder(destination.parent)
    if source.parent != destination.parent:
        fsync_folder(source.parent)
