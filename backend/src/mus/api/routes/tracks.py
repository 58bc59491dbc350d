"""Tracks: list, read, edit tags (optionally renaming the file), delete."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from redis.exceptions import LockError

from mus.adapters.events.event_publisher import EventType
from mus.adapters.file_replacement import replace_with_changed_copy, temp_name_for
from mus.adapters.path_locks import WriteKind
from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.track_repository import TrackRepository, TrackSort
from mus.adapters.resource_faults import Place, ResourceUnavailableError, resource_fault
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.adapters.scanner.tag_editor import TagWriteError, write_tags
from mus.adapters.track_writer import note_rename_target, track_mutex
from mus.api.deps import AppStateDep, ExistingTrackDep
from mus.api.error_handlers import (
    BROKER_DOWN_RESPONSE,
    NOT_FOUND_RESPONSE,
    UNPARSEABLE_BODY_RESPONSE,
)
from mus.api.library_files import (
    forget_operation,
    missing_file_detail,
    reserve_library_path,
    track_file,
)
from mus.api.schemas import (
    INT64_MAX,
    ErrorDetail,
    JobAccepted,
    SortOrder,
    TrackEdit,
    TrackEdited,
    TrackPage,
    TrackRead,
)
from mus.application.job_catalogue import JOB_QUEUES
from mus.core.broker_preflight import BrokerUnavailableError
from mus.domain.file_naming import track_file_stem
from mus.domain.file_operation import FileOperationKind
from mus.domain.track import ProcessingStatus, Track

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/tracks", tags=["tracks"])

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200


@router.get("", response_model=TrackPage)
async def list_tracks(
    state: AppStateDep,
    *,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    processing_status: Annotated[ProcessingStatus | None, Query(alias="status")] = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_SEARCH_LENGTH, description="Words that title, artist or path hold"),
    ] = None,
    sort: Annotated[TrackSort, Query(description="Order of the list; ties by id")] = (
        TrackSort.ARTIST
    ),
    order: Annotated[SortOrder, Query(description="asc or desc")] = SortOrder.ASC,
) -> TrackPage:
    """Tracks ordered by `sort` (artist and title by default) and id; `status` filters by
    processing status, `q` by words found in the title, artist or file path."""
    descending = order is SortOrder.DESC
    async with state.database.session() as session:
        repo = TrackRepository(session)
        tracks = await repo.list_tracks(
            status=processing_status,
            offset=offset,
            limit=limit,
            search=q,
            sort=sort,
            descending=descending,
        )
        total = await repo.count(status=processing_status, search=q)
    return TrackPage(
        items=[TrackRead.from_domain(track) for track in tracks],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{track_id}", response_model=TrackRead, responses=NOT_FOUND_RESPONSE)
async def get_track(track: ExistingTrackDep) -> TrackRead:
    return TrackRead.from_domain(track)


def _rewrite_tags(
    path: Path, temp_name: str, title: str | None, artist: str | None
) -> tuple[str, os.stat_result]:
    """Write the tags into a copy renamed over the file, then fingerprint the result
    (blocking: runs in a thread). A failure leaves the file byte-identical."""

    def change(copy: Path) -> None:
        write_tags(copy, title=title, artist=artist, extension=path.suffix)

    stat_result = replace_with_changed_copy(path, change, temp_name)
    return content_fingerprint(path), stat_result


async def _drop_intent(state: AppStateDep, operation_id: int) -> None:
    """The file was left as it was: forget the intent (or let the reconciler do it)."""
    try:
        async with state.database.session() as session:
            await FileOperationRepository(session).finish(operation_id)
    except Exception as exc:  # the database is away too: the reconciler finds nothing changed
        logger.warning("tag edit intent %d left for the reconciler: %s", operation_id, exc)


def _tag_write_failure(track: Track, exc: BaseException) -> Exception:
    """What the client is told when the tags could not be written (the file is unchanged)."""
    if isinstance(exc, FileNotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=missing_file_detail(track))
    fault = resource_fault(exc)
    if fault is not None:  # the disk, not the file: never blamed on the file
        return ResourceUnavailableError(
            fault if fault.place is not None else replace(fault, place=Place.MUSIC)
        )
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=f"cannot write tags to {track.file_path}: {exc}",
    )


async def _save_tags(state: AppStateDep, track: Track, edit: TrackEdit) -> Track:
    """Intent, then the file (copy + fsync + rename over), then the row with the outcome.

    A crash or a database failure after the file changed leaves the intent: the reconciler
    then brings the row up to the file (`application/file_operation_reconciler`).
    """
    absolute = track_file(state.settings, track)
    if not await asyncio.to_thread(absolute.is_file):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=missing_file_detail(track))
    async with state.write_lock.hold([track.file_path], WriteKind.CONTENT):
        try:
            before = await asyncio.to_thread(content_fingerprint, absolute)
        except FileNotFoundError:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=missing_file_detail(track)
            ) from None
        temp_name = temp_name_for(absolute)
        async with state.database.session() as session:
            operation = await FileOperationRepository(session).record(
                FileOperationKind.TAG_EDIT,
                track_id=track.id,
                source_path=track.file_path,
                details={
                    "title": edit.title,
                    "artist": edit.artist,
                    "before": before,
                    "temp": temp_name,
                },
            )
        try:
            content_hash, stat_result = await asyncio.to_thread(
                _rewrite_tags, absolute, temp_name, edit.title, edit.artist
            )
        except (TagWriteError, OSError) as exc:
            await _drop_intent(state, operation.id)
            raise _tag_write_failure(track, exc) from exc
        await state.write_lock.record_content(track.file_path, content_hash)
        changes: dict[str, object] = {
            "content_hash": content_hash,
            "file_mtime": stat_result.st_mtime,
            "file_size": stat_result.st_size,
            "inode": stat_result.st_ino,
        }
        if edit.title is not None:
            changes["title"] = edit.title
        if edit.artist is not None:
            changes["artist"] = edit.artist
        async with state.database.session() as session:
            repo = TrackRepository(session)
            await repo.update_fields(track.id, **changes)
            await FileOperationRepository(session).finish(operation.id)
            updated = await repo.get(track.id)
    if updated is None:  # deleted while we wrote: the file went with it
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"track {track.id} not found")
    await state.events.publish_track(EventType.TRACK_UPDATED, updated)
    return updated


@router.patch(
    "/{track_id}",
    response_model=TrackEdited,
    responses={
        **NOT_FOUND_RESPONSE,
        **BROKER_DOWN_RESPONSE,
        **UNPARSEABLE_BODY_RESPONSE,
        status.HTTP_409_CONFLICT: {
            "model": ErrorDetail,
            "description": "Other edits of this track kept it busy for too long",
        },
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "model": ErrorDetail,
            "description": "Invalid edit, or the file's tags cannot be written",
        },
    },
)
async def edit_track(track: ExistingTrackDep, edit: TrackEdit, state: AppStateDep) -> TrackEdited:
    """Write title/artist into the file and the database; `rename` queues `Artist - Title.ext`.

    The write happens under the write lock, so the watcher ignores its echo; no broker
    means 503 before the file is touched. The rename runs as a job (`pending_rename`).
    Edits of one track, and its rename jobs, run one at a time (the track's mutex).
    """
    try:
        async with track_mutex(state.redis, track.id):
            return await _edit_in_turn(state, track.id, edit)
    except LockError:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"track {track.id} is being changed by other requests; try again",
        ) from None


async def _edit_in_turn(state: AppStateDep, track_id: int, edit: TrackEdit) -> TrackEdited:
    """The edit, on the row as it is now (an edit or rename before us may have changed it)."""
    async with state.database.session() as session:
        track = await TrackRepository(session).get(track_id)
    if track is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"track {track_id} not found")
    if edit.title is not None or edit.artist is not None:
        track = await _save_tags(state, track, edit)
    if not edit.rename:
        return TrackEdited.from_edit(track, pending_rename=None)
    current = PurePosixPath(track.file_path)
    target, operation = await reserve_library_path(
        state.database,
        state.settings.music_dir_path,
        current.parent,
        track_file_stem(track.artist, track.title),
        current.suffix,
        kind=FileOperationKind.RENAME,
        track_id=track.id,
        source_path=track.file_path,
        keep=track.file_path,
    )
    try:
        await note_rename_target(state.redis, track.id, target)
        if operation is None:
            return TrackEdited.from_edit(track, pending_rename=None)
        await state.job_queue.enqueue(
            "update_track_path_by_id", track_id=track.id, new_file_path=target
        )
    except BrokerUnavailableError:
        if operation is not None:
            await forget_operation(state.database, operation.id)
        raise
    return TrackEdited.from_edit(track, pending_rename=target)


@router.delete(
    "/{track_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses={**NOT_FOUND_RESPONSE, **BROKER_DOWN_RESPONSE},
)
async def delete_track(track: ExistingTrackDep, state: AppStateDep) -> JobAccepted:
    """Queue deletion of the file, its covers and its row (`track_deleted` follows).

    The intent is recorded first: a job that is lost or fails leaves it for the
    reconciler, or for a requeue, to finish.
    """
    job = "delete_track_with_files"
    async with state.database.session() as session:
        operations = FileOperationRepository(session)
        earlier = await operations.for_track(track.id, FileOperationKind.DELETE)
        operation = (
            earlier[0]
            if earlier
            else await operations.record(
                FileOperationKind.DELETE, track_id=track.id, source_path=track.file_path
            )
        )
        if earlier:
            await operations.reopen(operation.id)
    try:
        job_id = await state.job_queue.enqueue(job, track_id=track.id)
    except BrokerUnavailableError:
        if not earlier:
            await forget_operation(state.database, operation.id)
        raise
    return JobAccepted(track_id=track.id, job_id=job_id, queue=JOB_QUEUES[job].value, job=job)
