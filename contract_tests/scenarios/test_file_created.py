"""A file appears in the music folder (the OS's created event through the watcher's mapping)."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()


async def create(world: World, spec: AudioSpec) -> None:
    world.write(spec)
    await world.os_events([("added", spec.relative_path)])


@scenarios.add
async def tagged_mp3_with_cover(world: World) -> None:
    await create(
        world,
        AudioSpec(
            "Nina Simone/Feeling Good.mp3",
            "mp3",
            title="Feeling Good",
            artist="Nina Simone",
            album="I Put a Spell on You",
            cover=CoverSpec(width=640, height=480, seed=1),
        ),
    )


@scenarios.add
async def flac_with_cover(world: World) -> None:
    await create(
        world,
        AudioSpec(
            "Sigur Rós/Hoppípolla.flac",
            "flac",
            title="Hoppípolla",
            artist="Sigur Rós",
            cover=CoverSpec(width=300, height=300, seed=2, image_format="PNG"),
        ),
    )


@scenarios.add
async def ogg_and_m4a_with_covers(world: World) -> None:
    await create(
        world,
        AudioSpec(
            "Mix/Ogg Song.ogg", "ogg", title="Ogg Song", artist="Vorbis", cover=CoverSpec(seed=3)
        ),
    )
    await create(
        world,
        AudioSpec(
            "Mix/M4A Song.m4a", "m4a", title="M4A Song", artist="AAC", cover=CoverSpec(seed=4)
        ),
    )


@scenarios.add
async def untagged_wav_named_artist_title(world: World) -> None:
    await create(world, AudioSpec("Miles Davis - So What.wav", "wav", duration_seconds=1.5))


@scenarios.add
async def non_latin_mp3_tags(world: World) -> None:
    await create(
        world,
        AudioSpec(
            "坂本龍一/Merry Christmas.mp3", "mp3", title="戦場のメリークリスマス", artist="坂本龍一"
        ),
    )


@scenarios.add
async def corrupt_file_reaches_error(world: World) -> None:
    await create(world, AudioSpec("Broken/broken.mp3", "mp3", corrupt=True))


@scenarios.add
async def temp_and_non_audio_files_are_ignored(world: World) -> None:
    (world.music / "notes.txt").write_text("not audio")
    (world.music / "song.mp3.part").write_bytes(b"partial download")
    await world.os_events([("added", "notes.txt"), ("added", "song.mp3.part")])


@scenarios.add
async def album_copied_in_together(world: World) -> None:
    """New files of one watcher batch: one index job (two files gone before it ran), one
    batch analysis (two files ERROR)."""
    specs = [
        AudioSpec(
            "Portishead/Dummy/01 Mysterons.mp3",
            "mp3",
            title="Mysterons",
            artist="Portishead",
            cover=CoverSpec(width=320, height=320, seed=5),
        ),
        AudioSpec("Portishead/Dummy/02 Sour Times.flac", "flac", title="Sour Times"),
        AudioSpec("Portishead/Dummy/03 Strangers.ogg", "ogg", artist="Portishead"),
        AudioSpec("Portishead/Dummy/04 Broken.mp3", "mp3", corrupt=True),
        AudioSpec("Portishead/Dummy/05 Broken too.flac", "flac", corrupt=True),
        AudioSpec("Portishead/Dummy/06 Gone.mp3", "mp3", title="Gone"),
        AudioSpec("Portishead/Dummy/07 Gone too.ogg", "ogg", title="Gone too"),
    ]
    world.run_one_job_at_a_time()  # the repeated batch's job runs after the first one
    world.write_all(specs)
    # The copy replaced an old rip, whose deletion is in the same batch (a job of its own).
    changes = [("deleted", "Portishead/Dummy/old rip.mp3")]
    await world.os_events(changes + [("added", spec.relative_path) for spec in specs])
    for spec in specs[5:]:  # moved on by their owner before the batch job ran
        world.discard(spec.relative_path)
    # The OS repeats two creations in its next batch before any job ran: that batch job finds
    # them indexed and unchanged.
    await world.os_events([("added", spec.relative_path) for spec in specs[:2]])


@scenarios.add
async def files_of_a_batch_changed_before_its_analysis(world: World) -> None:
    """The batch analysis finds every track indexed again meanwhile (revisions moved on) and
    does nothing; each changed file's own analysis completes it."""
    world.run_one_job_at_a_time()  # the modifications (medium) run before the batch (low)
    first = AudioSpec("Album/01.mp3", "mp3", title="First", artist="Band")
    second = AudioSpec("Album/02.flac", "flac", title="Second", artist="Band")
    world.write_all([first, second])
    await world.os_events([("added", first.relative_path), ("added", second.relative_path)])
    await world.drain("high_priority")  # indexed at revision 0; the batch analysis waits
    world.write(AudioSpec("Album/01.mp3", "mp3", title="First, retitled", artist="Band"))
    world.write(AudioSpec("Album/02.flac", "flac", title="Second, retitled", artist="Band"))
    await world.os_events([("modified", first.relative_path), ("modified", second.relative_path)])


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
