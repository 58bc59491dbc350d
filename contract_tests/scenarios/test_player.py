"""The household player's state follows its track: cleared when the track goes, kept (same
id) when the file is moved or renamed."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()

SONG = AudioSpec("Stereolab/Cybele.ogg", "ogg", title="Cybele's Reverie", artist="Stereolab")


async def playing(world: World) -> int:
    """The song is indexed and the player is halfway through it, at reduced volume."""
    world.write(SONG)
    await world.os_events([("added", SONG.relative_path)])
    await world.drain()
    track_id = await world.track_id(SONG.relative_path)
    api = await world.api()
    response = await api.put(
        "/player/state",
        json={"current_track_id": track_id, "progress_seconds": 1.5, "volume": 0.4},
    )
    assert response.status_code == 200, response.text
    return track_id


@scenarios.add
async def player_forgets_a_track_the_user_deleted(world: World) -> None:
    track_id = await playing(world)
    api = await world.api()
    response = await api.delete(f"/tracks/{track_id}")
    assert response.status_code == 202, response.text
    await world.drain()
    await world.os_events([("deleted", SONG.relative_path)])


@scenarios.add
async def player_forgets_a_track_deleted_on_disk(world: World) -> None:
    await playing(world)
    (world.music / SONG.relative_path).unlink()
    await world.let_write_locks_expire()
    await world.os_events([("deleted", SONG.relative_path)])


@scenarios.add
async def player_keeps_a_track_moved_on_disk(world: World) -> None:
    await playing(world)
    moved = "Archive/Stereolab - Cybele's Reverie.ogg"
    (world.music / "Archive").mkdir()
    (world.music / SONG.relative_path).rename(world.music / moved)
    await world.let_write_locks_expire()
    await world.os_events([("deleted", SONG.relative_path), ("added", moved)])


@scenarios.add
async def player_keeps_a_track_renamed_through_the_api(world: World) -> None:
    """The player is muted while the user renames the track it plays."""
    track_id = await playing(world)
    api = await world.api()
    response = await api.put(
        "/player/state",
        json={"current_track_id": track_id, "progress_seconds": 1.5, "volume": 0.4,
              "is_muted": True},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    response = await api.patch(
        f"/tracks/{track_id}",
        json={"title": "Cybele's Reverie (Remastered)", "artist": "Stereolab", "rename": True},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
