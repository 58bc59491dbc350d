"""Files copied into the watched folder: mus's own watcher, not the bench, enqueues them.

The `files` rows send one `handle_file_created` per file through the port; here the api
(its watcher on) sees a library arrive as a person's copy makes it: one `shutil.copytree`
of a staged library into the music folder, folders made and files written in place (not
renamed in), so the watcher meets folders it must start watching and half-written files.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.api_process import api_process, until_watching
from benchmarks.bench_world import World, fresh_world, until
from benchmarks.deployments import Deployment
from benchmarks.measures import FILES_SECONDS, READY_SECONDS, workers
from benchmarks.worker_processes import ProcessSet
from mus.demo.audio_generator import generate_library
from mus.domain.track import ProcessingStatus

PROBE_SECONDS = 120.0
COPY_POLL_SECONDS = 0.1
COPIED_FOLDER = "copied"


@dataclass(frozen=True, slots=True)
class CopyFigures:
    """Seconds from the start of the copy; the copy's own length tells the disk's share."""

    copy_seconds: float
    listed_seconds: float  # every file is a track (PENDING or later)
    complete_seconds: float  # every track analysed (COMPLETE or ERROR)
    outcome: str


async def probe_round_trip(world: World, staged_probe: Path, watched: Sequence[ProcessSet]) -> None:
    """One file copied in is listed and analysed, then removed and forgotten.

    Only the backend's own workers run jobs, so a probe that becomes a track proves the
    api's watcher enqueues on this backend, end to end, before the clock starts; its
    removal leaves an empty library (and the start-up scan of the empty folder long over).
    """
    probe = world.settings.music_dir_path / staged_probe.name
    shutil.copy2(staged_probe, probe)

    async def analysed() -> bool:
        return await world.tracks() == 1 and await world.analysed() == 1

    async def forgotten() -> bool:
        return await world.tracks() == 0

    await until(analysed, PROBE_SECONDS, "probe file copied in: analysed", watched, 0.1)
    probe.unlink()
    await until(forgotten, PROBE_SECONDS, "probe file removed: forgotten", watched, 0.1)


def timed_copy(source: Path, destination: Path) -> float:
    """The copy a person's drag and drop makes (`shutil.copytree`); its seconds."""
    started = time.perf_counter()
    shutil.copytree(source, destination)
    return time.perf_counter() - started


async def copy_into_watched_folder(
    deployment: Deployment, redis_url: str, files: int, timeout_seconds: float = FILES_SECONDS
) -> CopyFigures:
    """Seconds from the start of one copy of `files` files into the music folder until all
    are listed and until all are analysed, on the backend's workers and real api.

    The clock starts once the workers poll, the api's healthcheck says the watcher watches,
    and a probe file made the round trip; the library is generated outside the music folder
    beforehand, so only the copy is timed, not the audio generation.
    """
    async with fresh_world(redis_url) as world:
        staged = world.settings.data_dir_path / "staged"
        generate_library(staged, files, seed=2030)
        (staged_probe,) = generate_library(world.settings.data_dir_path / "probe", 1, seed=2031)
        async with (
            workers(deployment, world, bench_jobs=False) as worker_set,
            api_process(deployment, world) as api,
        ):
            watched = [worker_set, api.processes]
            await until_watching(api, READY_SECONDS, watched)
            await probe_round_trip(world, staged_probe, watched)
            listed_at: list[float] = []
            started = time.perf_counter()
            target = world.settings.music_dir_path / COPIED_FOLDER
            copying = asyncio.ensure_future(asyncio.to_thread(timed_copy, staged, target))

            async def all_analysed() -> bool:
                if copying.done():
                    copying.result()  # a failed copy fails the row now, not at the time limit
                tracks = await world.tracks()
                if not listed_at and tracks >= files:
                    listed_at.append(time.perf_counter())
                return tracks >= files and await world.analysed() == tracks

            try:
                what = f"{deployment.name}: {files} copied files to COMPLETE"
                await until(all_analysed, timeout_seconds, what, watched, COPY_POLL_SECONDS)
                seconds = time.perf_counter() - started
                copy_seconds = await copying
            finally:
                if not copying.done():  # the thread cannot be stopped: let it end first
                    with contextlib.suppress(Exception):
                        await copying
        complete = await world.tracks(ProcessingStatus.COMPLETE)
        tracks = await world.tracks()
    outcome = f"{complete} ok, {tracks - complete} err"
    if tracks != files:
        outcome += f" ({tracks} tracks for {files} files)"
    return CopyFigures(copy_seconds, listed_at[0] - started, seconds, outcome)
