"""The world's own actions do not depend on how busy the machine or the file system is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from harness.world import World

NEW_FILES = 50


async def test_a_discarded_files_inode_number_is_never_given_to_a_new_file(
    run_scenario: Callable[..., Awaitable[dict[str, Any]]],
) -> None:
    # `file_events_overtake_an_analysis_backlog` unlinked a file, then wrote another: ext4
    # gives the freed number to one of the next new files now and then (at the shell, 1 of
    # 50 files in 2 of 4 trials; with `unlink` here, this test fails as often), the watcher
    # mapped the pair to a move, and the newcomer's events were recorded under the deleted
    # track's name, on either leg, depending on what else the machine was doing.
    numbers: dict[str, Any] = {}

    async def scenario(world: World) -> None:
        folder = world.music / "Backlog"
        folder.mkdir()
        doomed = folder / "01.txt"
        doomed.write_text("gone soon")
        numbers["discarded"] = doomed.stat().st_ino
        world.discard("Backlog/01.txt")
        (world.music / "Inbox").mkdir()
        for index in range(NEW_FILES):
            for where in (folder, world.music / "Inbox"):
                (where / f"new-{index}.txt").write_text("new")
        numbers["new"] = {
            path.stat().st_ino for path in world.music.rglob("new-*.txt") if path.is_file()
        }

    await run_scenario(scenario)
    assert len(numbers["new"]) == 2 * NEW_FILES
    assert numbers["discarded"] not in numbers["new"]


async def test_events_published_before_a_recording_are_in_it(
    run_scenario: Callable[..., Awaitable[dict[str, Any]]],
) -> None:
    # The world read events until a 50 ms quiet moment: on a loaded machine a published
    # event could arrive after it. It now reads up to a marker it publishes itself.
    async def scenario(world: World) -> None:
        for index in range(200):
            await world.redis.publish(
                world.settings.event_channel, f'{{"type": "probe", "index": {index}}}'
            )

    recording = await run_scenario(scenario)
    assert [event["index"] for event in recording["events"]["<library>"]] == list(range(200))
