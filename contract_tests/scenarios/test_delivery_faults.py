"""Delivery under faults: what the app does when the broker loses work it was given."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.domain.file_operation import FileOperationKind

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()


@scenarios.add
async def broker_restarts_empty_before_the_analysis(world: World) -> None:
    """Indexed and PENDING, its analysis queued, then the broker loses everything: the
    reconciler finds the track no job is coming for and queues its analysis again."""
    world.write(
        AudioSpec("Lost/first.mp3", "mp3", title="First", cover=CoverSpec(image_format="PNG"))
    )
    world.write(AudioSpec("Lost/second.flac", "flac", title="Second"))
    await world.os_events([("added", "Lost/first.mp3"), ("added", "Lost/second.flac")])
    await world.drain("high_priority")
    await world.broker_loses_its_data()
    assert await world.reconcile() == 2


@scenarios.add
async def reconciler_leaves_queued_work_alone(world: World) -> None:
    """While the broker still holds the analyses, the reconciler queues nothing twice."""
    world.write(AudioSpec("Busy/song.ogg", "ogg", title="Busy"))
    await world.os_events([("added", "Busy/song.ogg")])
    await world.drain("high_priority")
    assert await world.reconcile() == 0


@scenarios.add_on_own_broker
async def broker_down_when_the_api_starts(world: World) -> None:
    """The api's start-up scan runs with the broker down: rows are indexed, the analysis
    batches are kept, and the relay hands them over once the broker is up."""
    world.write_all(
        [
            AudioSpec("Start/one.mp3", "mp3", title="One", artist="Early"),
            AudioSpec("Start/two.ogg", "ogg", title="Two"),
            AudioSpec("Start/three.wav", "wav"),
        ]
    )
    await world.broker_stops()
    await world.initial_scan()
    await world.broker_starts()
    await world.relay_kept_jobs()


@scenarios.add_on_own_broker
async def broker_restarts_with_jobs_queued(world: World) -> None:
    """Creations queued, then a broker restart (AOF on): every queued job survives it."""
    world.write_all(
        [
            AudioSpec("Queued/a.flac", "flac", title="A"),
            AudioSpec("Queued/b.m4a", "m4a", title="B", cover=CoverSpec(seed=3)),
        ]
    )
    await world.os_events([("added", "Queued/a.flac"), ("added", "Queued/b.m4a")])
    await world.broker_stops()
    await world.broker_starts()


@scenarios.add_on_own_broker
async def watcher_events_while_the_broker_is_away(world: World) -> None:
    """Files arrive while the broker is down: the watcher keeps their jobs, in order, and
    they run once it is back; a file created and deleted meanwhile leaves nothing."""
    world.write(AudioSpec("Away/kept.mp3", "mp3", title="Kept"))
    transient = world.write(AudioSpec("Away/transient.wav", "wav", title="Transient"))
    await world.broker_stops()
    await world.os_events([("added", "Away/kept.mp3"), ("added", "Away/transient.wav")])
    transient.unlink()
    await world.os_events([("deleted", "Away/transient.wav")])
    await world.broker_starts()
    await world.relay_kept_jobs()


@scenarios.add_on_own_broker
async def broker_refusing_writes_with_jobs_queued(world: World) -> None:
    """Creations queued, then the broker runs out of memory (`noeviction`: every write is
    refused) while the backend's real worker runs; memory is raised again: every queued job
    still runs (at least once) and no track is ERROR or missing."""
    world.write_all(
        [
            AudioSpec("Full/a.mp3", "mp3", title="A", cover=CoverSpec(seed=5)),
            AudioSpec("Full/b.flac", "flac", title="B"),
            AudioSpec("Full/c.wav", "wav", title="C"),
        ]
    )
    await world.os_events(
        [("added", "Full/a.mp3"), ("added", "Full/b.flac"), ("added", "Full/c.wav")]
    )
    await world.broker_refuses_writes()
    await world.worker_runs_for(seconds=4)
    await world.broker_accepts_writes()


@scenarios.add
async def worker_killed_mid_run(world: World) -> None:
    """Twelve files queued; the backend's real worker process is SIGKILLed once three are
    indexed. Whatever it held (running, prefetched, a follow-up committed but not sent) is
    done by the next worker: every file COMPLETE, every job run at least once, none lost."""
    specs = [
        AudioSpec(f"Killed/{n:02d}.{fmt}", fmt, title=f"Killed {n}", duration_seconds=1.0)
        for n, fmt in enumerate(["mp3", "flac", "ogg", "m4a", "wav", "mp3"] * 2)
    ]
    world.write_all(specs)
    await world.os_events([("added", spec.relative_path) for spec in specs])
    await world.worker_killed_mid_run(after_tracks=3)


@scenarios.add
async def database_locked_past_its_timeout_during_a_job(world: World) -> None:
    """Another process holds the database for 3 s while a user's deletion and an upload's
    indexing are due (the worker's busy timeout is 0.5 s): both jobs wait for the lock instead
    of failing, the file and its row agree meanwhile, none is ERROR or lost, and each finishes
    as asked once the lock is released (the row goes with its file, the upload is indexed and
    analysed). The api records each action's intent before it answers 202, so the two are
    asked for with the worker paused, and the lock is taken before it goes on."""
    specs = [
        AudioSpec("Locked/first.mp3", "mp3", title="First", cover=CoverSpec(seed=5)),
        AudioSpec("Locked/gone.flac", "flac", title="Gone"),
        AudioSpec("Locked/kept.ogg", "ogg", title="Kept"),
    ]
    world.write_all(specs)
    await world.os_events([("added", spec.relative_path) for spec in specs])
    await world.drain()
    first, gone = await world.track_id("Locked/first.mp3"), await world.track_id("Locked/gone.flac")
    api = await world.api()
    async with world.worker_running(MUS_DATABASE_BUSY_TIMEOUT_SECONDS="0.5"):
        # A first deletion shows the worker is up (its start-up writes to the database too).
        assert (await api.delete(f"/tracks/{first}")).status_code == 202

        async def first_gone() -> bool:
            return await world.track_status("Locked/first.mp3") is None

        await world.until(first_gone, "the worker process deleting the first track")
        async with contextlib.AsyncExitStack() as held:
            async with world.worker_paused():
                assert (await api.delete(f"/tracks/{gone}")).status_code == 202
                body = audio_bytes(AudioSpec("x.wav", "wav", duration_seconds=1.0))
                uploaded = await api.post(
                    "/tracks/upload",
                    data={"title": "Held", "artist": "Upload"},
                    files={"file": ("held.wav", body, "audio/wav")},
                )
                assert uploaded.status_code == 202, uploaded.text
                await held.enter_async_context(world.database_held())

            # The fault lasts 3 s, six busy timeouts of the worker: the deletion waits for
            # the lock before it touches the file (its intent is written first), so file
            # and row still agree meanwhile.
            await asyncio.sleep(3.0)
            assert (world.music / "Locked/gone.flac").exists()
            assert await world.track_status("Locked/gone.flac") == "COMPLETE"

        async def finished() -> bool:
            return (
                await world.track_status("Locked/gone.flac") is None
                and await world.track_status("Upload - Held.wav") == "COMPLETE"
            )

        await world.until(finished, "the deletion and the upload once the lock is released")


@scenarios.add
async def file_operations_cut_short_are_settled(world: World) -> None:
    """What a crash leaves of four changes to users' files, each intent on record: a tag
    edit whose new tags reached the file, an upload placed but not indexed, a delete whose
    file is gone, a rename whose file moved. The reconciler has each one finished."""
    edited = AudioSpec("Cut/edited.mp3", "mp3", title="Before", artist="Cut")
    doomed = AudioSpec("Cut/doomed.ogg", "ogg", title="Doomed")
    moved = AudioSpec("Cut/moved.flac", "flac", title="Moved", artist="Cut")
    world.write_all([edited, doomed, moved])
    await world.os_events([("added", spec.relative_path) for spec in (edited, doomed, moved)])
    await world.drain()
    async with world.database.session() as session:
        tracks = TrackRepository(session)
        before = await tracks.get_by_path(edited.relative_path)
        doomed_row = await tracks.get_by_path(doomed.relative_path)
        moved_row = await tracks.get_by_path(moved.relative_path)
    assert before is not None and doomed_row is not None and moved_row is not None
    # The file system as each action left it when the process died.
    world.write(AudioSpec(edited.relative_path, "mp3", title="After", artist="Cut"))
    world.write(AudioSpec("Cut/placed.mp3", "mp3", title="Placed"))
    (world.music / doomed.relative_path).unlink()
    (world.music / moved.relative_path).rename(world.music / "Cut/Cut - Moved.flac")
    async with world.database.session() as session:
        intents = FileOperationRepository(session)
        await intents.record(
            FileOperationKind.TAG_EDIT,
            track_id=before.id,
            source_path=edited.relative_path,
            details={"title": "After", "artist": None, "before": before.content_hash},
        )
        await intents.record(
            FileOperationKind.PLACE, track_id=None, source_path=None, target_path="Cut/placed.mp3"
        )
        await intents.record(
            FileOperationKind.DELETE, track_id=doomed_row.id, source_path=doomed.relative_path
        )
        await intents.record(
            FileOperationKind.RENAME,
            track_id=moved_row.id,
            source_path=moved.relative_path,
            target_path="Cut/Cut - Moved.flac",
        )
    assert await world.settle_file_operations() == 4


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    own_broker = scenarios.needs_own_broker(name)
    assert await run_scenario(scenarios[name], own_broker=own_broker) == snapshot
