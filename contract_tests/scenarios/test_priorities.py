"""Which queue goes first: one worker, one job at a time, behind a slow-analysis backlog.

The recording's `run_order` is the order the backend's worker started jobs in (observed by a
hook on the worker, not by the enqueue call), as runs of the same queue: a backend that takes
low before high, or files a job under another priority, shows up as a different run.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_spec import AudioSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()

BACKLOG = [
    AudioSpec(f"Backlog/{number:02d}.ogg", "ogg", title=f"Backlog {number}", artist="Queue")
    for number in range(1, 7)
]


async def analysis_backlog(world: World) -> None:
    """Six files indexed: their six slow analyses wait on the low queue."""
    world.run_one_job_at_a_time()
    world.write_all(BACKLOG)
    await world.os_events([("added", spec.relative_path) for spec in BACKLOG])
    await world.drain("high_priority")


@scenarios.add
async def file_events_overtake_an_analysis_backlog(world: World) -> None:
    """A deletion and a creation (high), then a modification (medium), run before the six
    analyses already waiting (low), and the analyses they chain queue behind those."""
    await analysis_backlog(world)
    # The new file first: written after the unlink, it may get the freed inode, and the
    # watcher's rules then rightly pair the two as a move (seen once in a full arq run).
    world.write(AudioSpec("Inbox/new.mp3", "mp3", title="Newcomer", artist="Queue"))
    (world.music / BACKLOG[0].relative_path).unlink()
    world.write(AudioSpec(BACKLOG[1].relative_path, "ogg", title="Retagged", artist="Queue"))
    await world.let_write_locks_expire()
    await world.os_events(
        [
            ("deleted", BACKLOG[0].relative_path),
            ("added", "Inbox/new.mp3"),
            ("modified", BACKLOG[1].relative_path),
        ]
    )


@scenarios.add
async def user_actions_overtake_an_analysis_backlog(world: World) -> None:
    """A user's deletion (high) and rename (medium) run before the waiting analyses."""
    await analysis_backlog(world)
    api = await world.api()
    doomed = await world.track_id(BACKLOG[2].relative_path)
    renamed = await world.track_id(BACKLOG[3].relative_path)
    response = await api.delete(f"/tracks/{doomed}")
    assert response.status_code == 202, response.text
    response = await api.patch(
        f"/tracks/{renamed}", json={"title": "Renamed", "artist": "Queue", "rename": True}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
