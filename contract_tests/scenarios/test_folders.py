"""Whole folders: copied in, deleted, moved, hidden. The OS reports the folder, not its files."""

from __future__ import annotations

import os
import shutil

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()

ALBUM = [
    AudioSpec("Album/01 Intro.mp3", "mp3", title="Intro", artist="Band", cover=CoverSpec(seed=2)),
    AudioSpec("Album/02 Song.ogg", "ogg", title="Song", artist="Band"),
    AudioSpec("Album/Disc 2/03 Outro.flac", "flac", title="Outro", artist="Band"),
]


async def album_indexed(world: World) -> None:
    world.write_all(ALBUM)
    await world.os_events([("added", "Album")])
    await world.drain()


@scenarios.add
async def folder_copied_in_is_indexed_whole(world: World) -> None:
    """One `added` event for the folder: every audio file under it (subfolders too) is found."""
    world.write_all(ALBUM)
    (world.music / "Album" / "cover.txt").write_text("not audio")
    await world.os_events([("added", "Album")])


@scenarios.add
async def folder_deleted_forgets_its_tracks(world: World) -> None:
    """One `deleted` event for a folder that is gone: every track under it leaves."""
    await album_indexed(world)
    shutil.rmtree(world.music / "Album")
    await world.let_write_locks_expire()
    await world.os_events([("deleted", "Album")])


@scenarios.add
async def folder_renamed_moves_its_tracks(world: World) -> None:
    """A folder renamed: its tracks follow (same ids, statuses and covers), nothing reanalysed."""
    await album_indexed(world)
    (world.music / "Album").rename(world.music / "Album (2024 Remaster)")
    await world.let_write_locks_expire()
    await world.os_events([("deleted", "Album"), ("added", "Album (2024 Remaster)")])


@scenarios.add
async def hidden_folders_are_ignored(world: World) -> None:
    """Trash, sync-tool state and version folders are not part of the library; a folder's own
    modification and the music folder's are no file's change."""
    world.write(AudioSpec(".Trash/old.mp3", "mp3", title="Old", artist="Gone"))
    world.write(AudioSpec("Album/.sync/partial.ogg", "ogg", title="Partial", artist="Sync"))
    world.write(AudioSpec("Album/kept.ogg", "ogg", title="Kept", artist="Band"))
    await world.os_events(
        [
            ("added", ".Trash/old.mp3"),
            ("added", "Album/.sync/partial.ogg"),
            ("added", "Album/kept.ogg"),
            ("modified", "Album"),
            ("modified", ""),
        ]
    )


@scenarios.add
async def special_files_and_odd_links_are_skipped(world: World) -> None:
    """A FIFO named like audio, a symlink loop and links leaving the music folder arrive with a
    real file in one batch: each is skipped (with a warning), the real file is indexed."""
    outside = world.settings.data_dir_path / "outside"
    outside.mkdir()
    world.write(AudioSpec("Odd/real.ogg", "ogg", title="Real", artist="Band"))
    os.mkfifo(world.music / "Odd" / "pipe.mp3")
    os.mkfifo(world.music / "Odd" / "control")
    (world.music / "Odd" / "loop-a.mp3").symlink_to(world.music / "Odd" / "loop-b.mp3")
    (world.music / "Odd" / "loop-b.mp3").symlink_to(world.music / "Odd" / "loop-a.mp3")
    (world.music / "Odd" / "away").symlink_to(outside)
    (outside / "far.mp3").write_bytes(b"never read")
    await world.os_events(
        [
            ("added", "Odd/real.ogg"),
            ("added", "Odd/pipe.mp3"),
            ("added", "Odd/control"),
            ("added", "Odd/loop-a.mp3"),
            ("added", "Odd/away/far.mp3"),
        ]
    )
    for name in ("pipe.mp3", "control", "loop-a.mp3", "loop-b.mp3", "away"):
        (world.music / "Odd" / name).unlink()  # the recording lists files, not links


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
