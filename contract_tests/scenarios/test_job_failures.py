"""Jobs that fail: what the backend's own result store says about them, and what the
library is left with. A failure is recorded with its error class, message and tries."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()

SONG = AudioSpec("Low/Words.flac", "flac", title="Words", artist="Low", cover=CoverSpec(seed=11))
UNREADABLE = AudioSpec("Low/Words.flac", "flac", corrupt=True)


@scenarios.add
async def job_left_by_an_older_release_fails_with_its_error(world: World) -> None:
    """A job queued before an upgrade carries an argument the new code no longer takes: it
    fails once (no retry would help), the track it names is untouched."""
    world.write(SONG)
    await world.os_events([("added", SONG.relative_path)])
    await world.drain()
    track_id = await world.track_id(SONG.relative_path)
    await world.job_queue.enqueue(
        "process_slow_metadata", track_id=track_id, revision=0, cover_size=500
    )


@scenarios.add
async def cover_that_cannot_be_written_is_an_unexpected_analysis_error(world: World) -> None:
    """The analysis meets an error nobody planned for (a folder squats on the cover's file
    name): the job still ends, and the track is ERROR with the reason."""
    world.write(SONG)
    await world.os_events([("added", SONG.relative_path)])
    await world.drain("high_priority")
    track_id = await world.track_id(SONG.relative_path)
    squatter = world.settings.covers_dir_path / f"{track_id}_original.webp"
    squatter.mkdir()
    await world.drain()
    squatter.rmdir()


@scenarios.add
async def ffprobe_crash_marks_the_track_error(world: World) -> None:
    """ffprobe dies of a signal on a file mutagen cannot measure (ffprobe is only that
    fallback now): the analysis ends, the track is ERROR with the reason, and the job itself
    succeeds (a file problem is an outcome, not a crash)."""
    world.write(UNREADABLE)
    await world.os_events([("added", UNREADABLE.relative_path)])
    await world.drain("high_priority")
    world.ffprobe_crashes()


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
