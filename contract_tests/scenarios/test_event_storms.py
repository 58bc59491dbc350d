"""What the OS does at scale or out of order: bursts, duplicate events, files that vanish."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()


@scenarios.add
async def burst_of_100_creations(world: World) -> None:
    specs = [
        AudioSpec(
            f"Burst/{index:03d} Track.{('mp3', 'flac', 'ogg', 'm4a', 'wav')[index % 5]}",
            ("mp3", "flac", "ogg", "m4a", "wav")[index % 5],  # type: ignore[arg-type]
            title=f"Track {index:03d}",
            artist="Burst",
            duration_seconds=0.5,
        )
        for index in range(100)
    ]
    world.write_all(specs)
    await world.os_events([("added", spec.relative_path) for spec in specs])


@scenarios.add
async def duplicate_created_events(world: World) -> None:
    spec = AudioSpec("dup.flac", "flac", title="Dup", artist="Twice")
    world.write(spec)
    await world.os_events([("added", spec.relative_path)])
    await world.os_events([("added", spec.relative_path)])
    await world.drain()
    await world.let_write_locks_expire()  # a late duplicate, not the echo of the analysis
    await world.os_events([("added", spec.relative_path)])


@scenarios.add
async def file_vanished_before_its_job_ran(world: World) -> None:
    spec = AudioSpec("ghost.mp3", "mp3", title="Ghost", artist="Gone")
    path = world.write(spec)
    await world.os_events([("added", spec.relative_path)])
    path.unlink()


@scenarios.add
async def file_vanished_before_slow_analysis(world: World) -> None:
    spec = AudioSpec("short-lived.wav", "wav", title="Short", artist="Lived")
    path = world.write(spec)
    await world.initial_scan()  # indexed PENDING, slow batch queued
    path.unlink()


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
