"""Recording a job's failure on its track: the ERROR state, `last_error`, and `track_error`."""

from __future__ import annotations

from mus.domain.track import TrackError
from mus.infrastructure.events.event_publisher import EventType
from mus.infrastructure.jobs.job_runtime import JobRuntime
from mus.infrastructure.persistence.models import utc_now
from mus.infrastructure.persistence.track_repository import TrackRepository


async def record_failure(runtime: JobRuntime, track_id: int, job_name: str, message: str) -> None:
    """Mark the track ERROR with why, and tell clients; the worker itself carries on."""
    error = TrackError(job_name=job_name, error_message=message, timestamp=utc_now())
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        await repo.mark_error(track_id, error)
        track = await repo.get(track_id)
    if track is not None:
        await runtime.events.publish_track(EventType.TRACK_ERROR, track)
