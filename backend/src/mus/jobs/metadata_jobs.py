"""Slow-metadata jobs: accurate duration, covers and tag normalisation, one track or a batch."""

from __future__ import annotations

from typing import Any

from mus.adapters.events.event_publisher import EventType
from mus.application.batch_analysis import Wanted, analyse_tracks
from mus.application.slow_analysis import AnalysisOutcome, AnalysisResult, analyse_track
from mus.jobs.runtime import get_job_runtime

JobResult = dict[str, Any]


async def _analyse_and_publish(
    track_id: int, revision: int | None, job_name: str
) -> AnalysisResult:
    runtime = get_job_runtime()
    result = await analyse_track(
        runtime.database,
        runtime.settings,
        track_id,
        revision=revision,
        job_name=job_name,
        write_lock=runtime.write_lock,
    )
    await _publish(result)
    return result


async def _publish(result: AnalysisResult) -> None:
    """COMPLETE and ERROR are told to clients; STALE and MISSING were told by their cause."""
    runtime = get_job_runtime()
    if result.track is not None and result.outcome is AnalysisOutcome.COMPLETE:
        await runtime.events.publish_track(EventType.TRACK_UPDATED, result.track)
    elif result.track is not None and result.outcome is AnalysisOutcome.ERROR:
        await runtime.events.publish_track(EventType.TRACK_ERROR, result.track)


async def process_slow_metadata(track_id: int, revision: int | None = None) -> JobResult:
    """Analyse one track; a job whose `revision` a later modification superseded does nothing."""
    result = await _analyse_and_publish(track_id, revision, "process_slow_metadata")
    return {"outcome": result.outcome.value, "track_id": track_id}


async def process_slow_metadata_batch(
    track_ids: list[int], revisions: list[int] | None = None
) -> JobResult:
    """Analyse many tracks in one job, their outcomes written in one transaction: the slow
    half of the start-up scan (no revisions: whatever each track is at) and of a batch of
    new files (`revisions[i]` is the revision `track_ids[i]` was indexed at)."""
    if revisions is not None and len(revisions) != len(track_ids):
        raise ValueError(
            f"{len(track_ids)} track ids but {len(revisions)} revisions: they go in pairs"
        )
    runtime = get_job_runtime()
    wanted: list[Wanted] = (
        [(track_id, None) for track_id in track_ids]
        if revisions is None
        else list(zip(track_ids, revisions, strict=True))
    )
    results = await analyse_tracks(
        runtime.database,
        runtime.settings,
        wanted,
        job_name="process_slow_metadata_batch",
        write_lock=runtime.write_lock,
    )
    outcomes: dict[str, int] = {}
    for result in results:
        await _publish(result)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return {
        "outcome": "batch",
        "tracks": len(results),
        "outcomes": dict(sorted(outcomes.items())),
    }
