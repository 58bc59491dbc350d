"""Start-up: the fast initial scan of a library, then the slow batch jobs it queues."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_generator import generate_library
from mus.demo.audio_spec import AudioSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()


@scenarios.add
async def initial_scan_of_30_files(world: World) -> None:
    generate_library(world.music, 28, seed=30)
    world.write(AudioSpec("Corrupt/bad.m4a", "m4a", corrupt=True))
    (world.music / "empty.mp3").write_bytes(b"")
    (world.music / "cover.jpg").write_bytes(b"\xff\xd8\xff not a track")
    await world.initial_scan()


@scenarios.add
async def rescan_prunes_vanished_files(world: World) -> None:
    paths = generate_library(world.music, 6, seed=31)
    await world.initial_scan()
    await world.drain()
    for path in paths[:2]:
        path.unlink()
    await world.initial_scan()


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
