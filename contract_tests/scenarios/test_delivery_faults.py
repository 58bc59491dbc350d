"""Delivery under faults: what the app does when the broker loses work it was given."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec, CoverSpec

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


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
