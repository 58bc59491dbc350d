"""The real streaq worker under faults: a broker restart, a SIGKILL of the worker.

Every test runs `streaq run mus.worker:worker` as a process on a Redis of its
own with AOF (fsync always) in the test's folder, and bounds every wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqJobQueue, create_producer
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus

from tests.own_redis import OwnRedis

STREAQ = Path(sys.executable).with_name("streaq")
WORKER = "mus.worker:worker"


@contextmanager
def worker_process(settings: Settings, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """The real CLI worker in a session of its own; killed with its group at the end."""
    environment = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "DATA_DIR_PATH": str(settings.data_dir_path),
        "MUSIC_DIR_PATH": str(settings.music_dir_path),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(STREAQ), "run", WORKER],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


async def statuses(database: Database) -> dict[str, ProcessingStatus]:
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
    return {track.file_path: track.processing_status for track in tracks}


async def wait_for(
    database: Database, done: str, within: float, log: Path, *, expected: int
) -> dict[str, ProcessingStatus]:
    """Poll the tracks until `expected` exist and all are COMPLETE (`done="complete"`) or
    at least one exists (`done="any"`); fail with the worker's log otherwise."""
    deadline = time.monotonic() + within
    while True:
        found = await statuses(database)
        if done == "any" and found:
            return found
        if len(found) == expected and all(
            status is ProcessingStatus.COMPLETE for status in found.values()
        ):
            return found
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:]
            pytest.fail(f"not {done} within {within:.0f}s: {found}\n--- worker log ---\n{tail}")
        await asyncio.sleep(0.1)


async def enqueue_creations(settings: Settings, names: list[str]) -> None:
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        for name in names:
            await port.enqueue("handle_file_created", file_path=name)


def library(settings: Settings, count: int) -> list[str]:
    names = [f"song-{n:02d}.wav" for n in range(count)]
    for name in names:
        write_audio(
            AudioSpec(name, "wav", title=name, duration_seconds=1.0), settings.music_dir_path
        )
    return names


@pytest.fixture
def durable_settings(settings: Settings, durable_redis: OwnRedis) -> Settings:
    return settings.model_copy(update={"redis_url": durable_redis.url})


async def test_the_worker_rides_out_a_broker_restart(
    durable_settings: Settings, durable_redis: OwnRedis, database: Database, tmp_path: Path
) -> None:
    names = library(durable_settings, 24)
    log = tmp_path / "worker.log"
    with worker_process(durable_settings, log, MUS_WORKER_REDELIVERY_SECONDS="2") as worker:
        await enqueue_creations(durable_settings, names)
        await wait_for(database, "any", 30, log, expected=len(names))
        durable_redis.stop()  # mid-run: creations and analyses are in flight
        await asyncio.sleep(3)
        assert worker.poll() is None, log.read_text(errors="replace")[-4000:]
        durable_redis.start()
        found = await wait_for(database, "complete", 60, log, expected=len(names))
        assert worker.poll() is None, "the worker exited instead of reconnecting"
    assert sorted(found) == names
    text = log.read_text(errors="replace")
    assert "broker lost" in text
    assert "broker back" in text


async def test_a_job_held_by_a_killed_worker_runs_on_another_within_seconds(
    durable_settings: Settings, database: Database, tmp_path: Path
) -> None:
    """SIGKILL mid-run: what it held (running, prefetched, the chained analyses) is done by
    the next worker, with the shipped redelivery time, and no track is left PENDING."""
    names = library(durable_settings, 24)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with worker_process(durable_settings, first_log, MUS_WORKER_CONCURRENCY="2") as first:
        await enqueue_creations(durable_settings, names)
        await wait_for(database, "any", 30, first_log, expected=len(names))
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
    with worker_process(durable_settings, second_log):
        found = await wait_for(database, "complete", 45, second_log, expected=len(names))
        recovered = time.monotonic() - killed_at
    assert sorted(found) == names
    print(f"\nall {len(names)} tracks COMPLETE {recovered:.1f}s after the SIGKILL")
    # The promise is a bound, not a speed: redelivery after ~6 s, plus the work itself.
    assert recovered < 30, f"recovery took {recovered:.1f}s"
