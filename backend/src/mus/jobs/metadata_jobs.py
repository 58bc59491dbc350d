"""Slow-metadata jobs: accurate duration, covers and tag normalisation, one track or a batch."""

from __future__ import annotations

from typing import Any

from mus.adapters.events.event_publisher import EventType
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
    if result.track is not None and result.outcome is AnalysisOutcome.COMPLETE:
        await runtime.events.publish_track(EventType.TRACK_UPDATED, result.track)
    elif result.track is not None and result.outcome is AnalysisOutcome.ERROR:
        await runtime.events.publish_track(EventType.TRACK_ERROR, result.track)
    return result


async def process_slow_metadata(track_id: int, revision: int | None = None) -> JobResult:
    """Analyse one track; a job whose `revision` a later modification superseded does nothing."""
    result = await _analyse_and_publish(track_id, revision, "process_slow_metadata")
    return {"outcome": result.outcome.value, "track_id": track_id}


async def process_slow_metadata_batch(track_ids: list[int]) -> JobResult:
    """The slow half of the initial scan: analyse many tracks in one job, in order."""
    outcomes: dict[str, int] = {}
    for track_id in track_ids:
        result = await _analyse_and_publish(track_id, None, "process_slow_metadata_batch")
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return {
        "outcome": "batch",
        "tracks": len(track_ids),
        "outcomes": dict(sorted(outcomes.items())),
    }
