"""Slow-metadata jobs publish what happened; a corrupt file ends in ERROR, never a crash."""

from __future__ import annotations

import pytest

from mus.adapters.persistence.track_repository import TrackRepository
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.domain.track import ProcessingStatus
from mus.jobs.file_system_jobs import handle_file_created
from mus.jobs.metadata_jobs import (
    process_slow_metadata,
    process_slow_metadata_batch,
)
from mus.jobs.runtime import JobRuntime

from tests.jobs.conftest import EventTap
from tests.track_writes import TrackWrites


async def test_corrupt_file_reaches_error_with_a_readable_message(
    runtime: JobRuntime, events: EventTap
) -> None:
    write_audio(AudioSpec("broken.mp3", "mp3", corrupt=True), runtime.settings.music_dir_path)
    created = await handle_file_created(file_path="broken.mp3")
    result = await process_slow_metadata(track_id=created["track_id"], revision=0)
    assert result == {"outcome": "error", "track_id": created["track_id"]}
    async with runtime.database.session() as session:
        track = await TrackRepository(session).get(created["track_id"])
    assert track is not None
    assert track.processing_status is ProcessingStatus.ERROR
    assert track.last_error is not None
    assert track.last_error.job_name == "process_slow_metadata"
    assert track.last_error.error_message == "not an audio file (or damaged beyond reading)"
    seen = await events.collect()
    assert [event["type"] for event in seen] == ["track_added", "track_error"]
    assert seen[-1]["last_error"]["job_name"] == "process_slow_metadata"


async def test_batch_job_analyses_each_track(runtime: JobRuntime, events: EventTap) -> None:
    root = runtime.settings.music_dir_path
    ids = []
    for spec in (
        AudioSpec("a.flac", "flac", title="A", cover=CoverSpec(width=64, height=64)),
        AudioSpec("b.ogg", "ogg", title="B"),
        AudioSpec("c.mp3", "mp3", corrupt=True),
    ):
        write_audio(spec, root)
        ids.append((await handle_file_created(file_path=spec.relative_path))["track_id"])
    result = await process_slow_metadata_batch(track_ids=[*ids, 999])
    assert result == {
        "outcome": "batch",
        "tracks": 4,
        "outcomes": {"complete": 2, "error": 1, "missing": 1},
    }
    async with runtime.database.session() as session:
        repo = TrackRepository(session)
        assert await repo.count(status=ProcessingStatus.COMPLETE) == 2
        assert await repo.count(status=ProcessingStatus.ERROR) == 1
    types = await events.types()
    assert types.count("track_updated") == 2
    assert types.count("track_error") == 1


async def test_batch_with_revisions_skips_a_stale_track_and_writes_once(
    runtime: JobRuntime, events: EventTap
) -> None:
    """The batch a group of new files chains: each track at the revision it was indexed at,
    every outcome written in one transaction (one that writes `tracks`)."""
    root = runtime.settings.music_dir_path
    ids = []
    for spec in (
        AudioSpec("a.flac", "flac", title="A", cover=CoverSpec(width=64, height=64)),
        AudioSpec("b.ogg", "ogg", title="B"),
        AudioSpec("c.mp3", "mp3", corrupt=True),
        AudioSpec("d.mp3", "mp3", title="D"),
    ):
        write_audio(spec, root)
        ids.append((await handle_file_created(file_path=spec.relative_path))["track_id"])
    async with runtime.database.session() as session:
        stale_revision = (await TrackRepository(session).get(ids[3])).revision  # type: ignore[union-attr]
        await TrackRepository(session).mark_pending(ids[3])  # d.mp3 changed since
    with TrackWrites(runtime.database) as writes:
        result = await process_slow_metadata_batch(
            track_ids=ids, revisions=[0, 0, 0, stale_revision]
        )
    assert result == {
        "outcome": "batch",
        "tracks": 4,
        "outcomes": {"complete": 2, "error": 1, "stale": 1},
    }
    assert writes.transactions == 1
    async with runtime.database.session() as session:
        tracks = await TrackRepository(session).get_many(ids)
    assert [tracks[i].processing_status for i in ids] == [
        ProcessingStatus.COMPLETE,
        ProcessingStatus.COMPLETE,
        ProcessingStatus.ERROR,
        ProcessingStatus.PENDING,
    ]
    assert tracks[ids[0]].has_cover
    error = tracks[ids[2]].last_error
    assert error is not None
    assert error.error_message == "not an audio file (or damaged beyond reading)"
    assert error.job_name == "process_slow_metadata_batch"
    types = await events.types()
    assert types.count("track_updated") == 2
    assert types.count("track_error") == 1


async def test_batch_revisions_must_pair_with_track_ids(runtime: JobRuntime) -> None:
    with pytest.raises(ValueError, match="2 track ids but 1 revisions"):
        await process_slow_metadata_batch(track_ids=[1, 2], revisions=[0])
