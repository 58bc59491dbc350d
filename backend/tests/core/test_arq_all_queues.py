"""One process, three arq queues: jobs on each queue run, and a stop ends every worker."""

from __future__ import annotations

import asyncio

import pytest
from arq import ArqRedis

from mus.core.arq_all_queues import build_workers, run_all_queues
from mus.core.arq_pool import ArqJobQueue, arq_queue_key, open_arq_pool
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus
from mus.infrastructure.jobs.job_catalogue import QUEUES_BY_PRIORITY
from mus.infrastructure.jobs.job_runtime import get_job_runtime
from mus.infrastructure.persistence.database import Database
from mus.infrastructure.persistence.track_repository import TrackRepository


def test_one_worker_per_named_queue() -> None:
    workers = build_workers()
    assert [worker.queue_name for worker in workers] == [
        arq_queue_key(queue.value) for queue in QUEUES_BY_PRIORITY
    ]
    assert all(not worker._handle_signals for worker in workers)


async def wait_for_statuses(database: Database, expected: dict[str, ProcessingStatus]) -> None:
    deadline = asyncio.get_running_loop().time() + 30.0
    seen: dict[str, ProcessingStatus] = {}
    while asyncio.get_running_loop().time() < deadline:
        async with database.session() as session:
            tracks = await TrackRepository(session).list_tracks()
        seen = {track.file_path: track.processing_status for track in tracks}
        if seen == expected:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"tracks never reached {expected}; last seen {seen}")


async def test_all_three_queues_are_consumed_until_stopped(
    settings: Settings, database: Database
) -> None:
    root = settings.music_dir_path
    write_audio(AudioSpec("high.mp3", "mp3", title="High"), root)
    write_audio(AudioSpec("medium.flac", "flac", title="Medium"), root)
    stop = asyncio.Event()
    runner = asyncio.create_task(run_all_queues(settings, stop))
    pool: ArqRedis = open_arq_pool(settings)
    try:
        queue = ArqJobQueue(pool)
        await queue.enqueue("high_priority", "handle_file_created", file_path="high.mp3")
        await queue.enqueue("medium_priority", "handle_file_modified", file_path="medium.flac")
        # Each file job chains a slow-metadata job on low_priority: COMPLETE means all three ran.
        await wait_for_statuses(
            database,
            {"high.mp3": ProcessingStatus.COMPLETE, "medium.flac": ProcessingStatus.COMPLETE},
        )
        assert get_job_runtime().settings is settings
        stop.set()
        await asyncio.wait_for(runner, timeout=15)
        results = await pool.all_job_results()
    finally:
        stop.set()
        if not runner.done():
            runner.cancel()
        await pool.aclose()
    ran_on = {(result.function, result.queue_name) for result in results}
    assert ran_on == {
        ("handle_file_created", arq_queue_key("high_priority")),
        ("handle_file_modified", arq_queue_key("medium_priority")),
        ("process_slow_metadata", arq_queue_key("low_priority")),
    }
    assert all(result.success for result in results)
    with pytest.raises(RuntimeError, match="no job runtime installed"):
        get_job_runtime()
