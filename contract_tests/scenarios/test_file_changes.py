"""Files already in the library change: modified, deleted, moved, renamed."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()

SONG = AudioSpec(
    "Portishead/Roads.mp3", "mp3", title="Roads", artist="Portishead", cover=CoverSpec(seed=5)
)


async def indexed(world: World, spec: AudioSpec = SONG) -> Path:
    """The file exists and its creation was fully processed before the scenario acts."""
    path = world.write(spec)
    await world.os_events([("added", spec.relative_path)])
    await world.drain()
    return path


@scenarios.add
async def modified_tags_go_back_through_pending(world: World) -> None:
    await indexed(world)
    world.write(AudioSpec(SONG.relative_path, "mp3", title="Roads (Live)", artist="Portishead"))
    await world.os_events([("modified", SONG.relative_path)])


@scenarios.add
async def stale_slow_job_is_skipped(world: World) -> None:
    """The file changes after its creation was handled but before its slow job ran."""
    world.write(SONG)
    await world.os_events([("added", SONG.relative_path)])
    await world.drain("high_priority")  # indexed at revision 0; slow job (revision 0) waits
    world.write(AudioSpec(SONG.relative_path, "mp3", title="Roads (Edit)", artist="Portishead"))
    await world.os_events([("modified", SONG.relative_path)])
    await world.drain("medium_priority")  # revision 1; a second slow job waits
    # The final drain runs both slow jobs: revision 0 must do no work.


@scenarios.add
async def file_deleted_before_its_analysis_ran(world: World) -> None:
    """The row is gone (the file was deleted) when its analysis job comes to run."""
    path = world.write(SONG)
    await world.os_events([("added", SONG.relative_path)])
    await world.drain("high_priority")  # indexed; the analysis waits on low
    world.discard(SONG.relative_path)
    assert not path.exists()
    await world.os_events([("deleted", SONG.relative_path)])
    await world.drain("high_priority")  # the row leaves; the final drain runs the analysis


@scenarios.add
async def modified_echo_with_same_content_does_nothing(world: World) -> None:
    """Past the write lock's grace, the stored fingerprint still recognises unchanged content."""
    await indexed(world)
    await world.let_write_locks_expire()
    await world.os_events([("modified", SONG.relative_path)])


@scenarios.add
async def tag_rewrite_echo_within_the_lock_is_ignored(world: World) -> None:
    """The slow job's own ID3v2.3 rewrite reaches the watcher while its lock holds."""
    await indexed(world)
    await world.os_events([("modified", SONG.relative_path)])


@scenarios.add
async def deleted_file_leaves_the_library(world: World) -> None:
    path = await indexed(world)
    path.unlink()
    await world.os_events([("deleted", SONG.relative_path)])


@scenarios.add
async def renamed_file_keeps_status_without_reprocessing(world: World) -> None:
    path = await indexed(world)
    path.rename(path.with_name("Roads (1994).mp3"))
    await world.os_events(
        [("deleted", SONG.relative_path), ("added", "Portishead/Roads (1994).mp3")]
    )


@scenarios.add
async def moved_file_to_another_folder(world: World) -> None:
    path = await indexed(world)
    target = world.music / "Trip Hop" / "Dummy" / "Roads.mp3"
    target.parent.mkdir(parents=True)
    path.rename(target)
    await world.os_events([("deleted", SONG.relative_path), ("added", "Trip Hop/Dummy/Roads.mp3")])


@scenarios.add
async def moved_error_track_keeps_its_error(world: World) -> None:
    broken = AudioSpec("broken.ogg", "ogg", corrupt=True)
    path = await indexed(world, broken)
    path.rename(world.music / "still broken.ogg")
    await world.os_events([("deleted", "broken.ogg"), ("added", "still broken.ogg")])


@scenarios.add
async def moved_file_arrives_with_new_content(world: World) -> None:
    """A move whose file was rewritten in place before the job ran (same inode, new mtime):
    the row follows the move, keeps its id, and the new content is indexed again."""
    path = await indexed(world)
    target = world.music / "Portishead" / "Roads (Remix).mp3"
    path.rename(target)
    remix = AudioSpec(SONG.relative_path, "mp3", title="Roads (Remix)", artist="Portishead")
    target.write_bytes(audio_bytes(remix))
    await world.let_write_locks_expire()
    await world.os_events(
        [("deleted", SONG.relative_path), ("added", "Portishead/Roads (Remix).mp3")]
    )


@scenarios.add
async def deleted_event_for_a_file_that_is_back(world: World) -> None:
    """An editor's save (delete, then write again) whose deletion job runs after the file
    is back: the track stays."""
    path = await indexed(world)
    saved = path.read_bytes()
    path.unlink()
    await world.let_write_locks_expire()
    await world.os_events([("deleted", SONG.relative_path)])
    path.write_bytes(saved)


@scenarios.add
async def moved_file_gone_before_its_job_ran(world: World) -> None:
    """The move was mapped, then the file left again before the job ran: the job finds it
    gone from both places and removes the track; the deletion that follows (of a path no
    row has) finds nothing to do."""
    path = await indexed(world)
    target = world.music / "Portishead" / "Roads (1994).mp3"
    path.rename(target)
    await world.let_write_locks_expire()
    await world.os_events(
        [("deleted", SONG.relative_path), ("added", "Portishead/Roads (1994).mp3")]
    )
    target.unlink()
    await world.drain()
    await world.os_events([("deleted", "Portishead/Roads (1994).mp3")])


@scenarios.add
async def moved_then_deleted_before_either_job_ran(world: World) -> None:
    """Found by make contract-fuzz: moved, then deleted, before any job ran. The deletion
    (high) runs first and knows no track at the destination; the move (medium) then finds
    the file gone from both places and removes the track, leaving no row without a file."""
    path = await indexed(world)
    target = world.music / "Björk" / "Roads.mp3"
    target.parent.mkdir()
    path.rename(target)
    await world.let_write_locks_expire()
    await world.os_events([("deleted", SONG.relative_path), ("added", "Björk/Roads.mp3")])
    target.unlink()
    await world.os_events([("deleted", "Björk/Roads.mp3")])


@scenarios.add
async def moved_back_before_the_move_job_ran(world: World) -> None:
    """Moved and moved back before the job ran: the destination is gone but the source is
    there again, so the move job reports it missing and the track stays as it was."""
    path = await indexed(world)
    target = world.music / "Portishead" / "Roads (1994).mp3"
    path.rename(target)
    await world.let_write_locks_expire()
    await world.os_events(
        [("deleted", SONG.relative_path), ("added", "Portishead/Roads (1994).mp3")]
    )
    target.rename(path)
    await world.drain()
    await world.os_events(
        [("deleted", "Portishead/Roads (1994).mp3"), ("added", SONG.relative_path)]
    )


@scenarios.add
async def move_of_a_file_never_indexed_indexes_the_destination(world: World) -> None:
    """A move job for a source mus never knew (its creation was lost or never seen): the
    destination is indexed like a new file."""
    world.write(AudioSpec("Unsorted/found.mp3", "mp3", title="Found", artist="Nobody"))
    await world.job_queue.enqueue(
        "handle_file_moved", src_path="Downloads/found.mp3", dest_path="Unsorted/found.mp3"
    )


@scenarios.add
async def file_that_came_and_went_within_one_batch_leaves_no_trace(world: World) -> None:
    """An editor's temporary file, created and removed between two looks of the watcher."""
    await indexed(world)
    await world.os_events([("added", "Portishead/.Roads.mp3.swp.mp3"), ("added", "tmp.mp3")])
    await world.os_events([("deleted", "tmp.mp3"), ("added", "tmp2.mp3"), ("deleted", "tmp2.mp3")])


@scenarios.add
async def file_moved_over_another_track_replaces_it(world: World) -> None:
    """`mv a.mp3 b.mp3` where b.mp3 is a track too: b's row, covers and events go, a's row
    moves to b's path keeping a's id."""
    path = await indexed(world)
    other = AudioSpec("Portishead/Glory Box.mp3", "mp3", title="Glory Box", artist="Portishead")
    await indexed(world, other)
    path.rename(world.music / other.relative_path)
    await world.let_write_locks_expire()
    await world.os_events([("deleted", SONG.relative_path), ("added", other.relative_path)])


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
