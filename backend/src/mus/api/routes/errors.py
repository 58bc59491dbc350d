"""The errors view: tracks whose last job failed, and putting them back in the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from mus.adapters.events.event_publisher import EventType
from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.track_writer import note_rename_target
from mus.api.app_state import AppState
from mus.api.deps import AppStateDep, ExistingTrackDep
from mus.api.error_handlers import BROKER_DOWN_RESPONSE, NOT_FOUND_RESPONSE
from mus.api.routes.tracks import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from mus.api.schemas import (
    INT64_MAX,
    ErrorDetail,
    RequeueAccepted,
    RequeueSummary,
    TrackPage,
    TrackRead,
)
from mus.core.broker_preflight import BrokerUnavailableError
from mus.domain.file_operation import FileOperation, FileOperationKind, FileOperationState
from mus.domain.track import ProcessingStatus, Track, TrackError

router = APIRouter(prefix="/errors", tags=["errors"])

SLOW_JOB = "process_slow_metadata"


@router.get("", response_model=TrackPage)
async def list_errors(
    state: AppStateDep,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> TrackPage:
    """Tracks in ERROR, each with `last_error` (job, message, time)."""
    async with state.database.session() as session:
        repo = TrackRepository(session)
        tracks = await repo.list_tracks(status=ProcessingStatus.ERROR, offset=offset, limit=limit)
        total = await repo.count(status=ProcessingStatus.ERROR)
    return TrackPage(
        items=[TrackRead.from_domain(track) for track in tracks],
        total=total,
        offset=offset,
        limit=limit,
    )


REDO_JOBS = {
    FileOperationKind.RENAME: "update_track_path_by_id",
    FileOperationKind.DELETE: "delete_track_with_files",
}


async def _failed_action(state: AppState, track: Track) -> FileOperation | None:
    """The user's rename or delete whose failure put the track in ERROR, if that is why."""
    async with state.database.session() as session:
        operations = await FileOperationRepository(session).for_track(track.id)
    failed = [
        operation
        for operation in operations
        if operation.state is FileOperationState.FAILED and operation.kind in REDO_JOBS
    ]
    return failed[-1] if failed else None


async def _enqueue_again(state: AppState, track: Track, revision: int) -> str:
    """The job that redoes what failed: the user's rename or delete, else the analysis."""
    action = await _failed_action(state, track)
    if action is None:
        return await state.job_queue.enqueue(SLOW_JOB, track_id=track.id, revision=revision)
    async with state.database.session() as session:
        await FileOperationRepository(session).reopen(action.id, requeued=True)
    try:
        if action.kind is FileOperationKind.DELETE:
            return await state.job_queue.enqueue(REDO_JOBS[action.kind], track_id=track.id)
        assert action.target_path is not None
        await note_rename_target(state.redis, track.id, action.target_path)
        return await state.job_queue.enqueue(
            REDO_JOBS[action.kind], track_id=track.id, new_file_path=action.target_path
        )
    except BrokerUnavailableError:
        async with state.database.session() as session:
            await FileOperationRepository(session).fail(action.id, action.error or "requeue failed")
        raise


async def requeue(state: AppState, track: Track) -> RequeueAccepted:
    """PENDING with a new revision, then the job that redoes what failed: a failed rename
    or delete is done again (the analysis follows a rename), any other error is analysed
    again. No broker puts the error back."""
    async with state.database.session() as session:
        revision = await TrackRepository(session).mark_pending(track.id)
    try:
        job_id = await _enqueue_again(state, track, revision)
    except BrokerUnavailableError:
        error = track.last_error or TrackError(SLOW_JOB, "requeue failed: broker down", utc_now())
        async with state.database.session() as session:
            await TrackRepository(session).mark_error(track.id, error)
        raise
    async with state.database.session() as session:
        pending = await TrackRepository(session).get(track.id)
    if pending is not None:
        await state.events.publish_track(EventType.TRACK_UPDATED, pending)
    return RequeueAccepted(track_id=track.id, revision=revision, job_id=job_id)


@router.post(
    "/requeue",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RequeueSummary,
    responses=BROKER_DOWN_RESPONSE,
)
async def requeue_all(state: AppStateDep) -> RequeueSummary:
    """Requeue every track in ERROR (those queued before a broker failure stay queued)."""
    async with state.database.session() as session:
        failed = await TrackRepository(session).list_tracks(status=ProcessingStatus.ERROR)
    return RequeueSummary(requeued=[await requeue(state, track) for track in failed])


@router.post(
    "/{track_id}/requeue",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RequeueAccepted,
    responses={
        **NOT_FOUND_RESPONSE,
        status.HTTP_409_CONFLICT: {"model": ErrorDetail, "description": "Track not in ERROR"},
        **BROKER_DOWN_RESPONSE,
    },
)
async def requeue_one(track: ExistingTrackDep, state: AppStateDep) -> RequeueAccepted:
    """Run the slow analysis of one failed track again."""
    if track.processing_status is not ProcessingStatus.ERROR:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"track {track.id} is {track.processing_status.value}, not ERROR",
        )
    return await requeue(state, track)
