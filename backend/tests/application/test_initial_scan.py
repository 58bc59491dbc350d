"""The start-up scan with the broker away: rows are indexed, their analysis waits, none is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.outbox_repository import OutboxRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.application.initial_scan import run_initial_scan
from mus.application.job_outbox import OutboxRelay
from mus.core.config import Settings
from mus.demo.audio_generator import generate_library
from mus.domain.track import ProcessingStatus
from mus.worker import create_worker

from tests.own_redis import OwnRedis


async def statuses(database: Database) -> list[ProcessingStatus]:
    async with database.session() as session:
        return [track.processing_status for track in await TrackRepository(session).list_tracks()]


async def test_a_scan_with_the_broker_down_is_analysed_once_it_is_up(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    broker = OwnRedis(tmp_path / "redis-aof")  # not started yet: the api starts without it
    settings = settings.model_copy(update={"redis_url": broker.url})
    generate_library(settings.music_dir_path, 7, seed=5)
    connection = StreaqConnection(settings, retry_seconds=0.2)
    await connection.start(wait_seconds=5)
    try:
        report = await run_initial_scan(database, settings, connection, batch_size=3)
        assert (report.fast_scan.inserted, report.slow_batches) == (7, 3)
        assert await statuses(database) == [ProcessingStatus.PENDING] * 7
        async with database.session() as session:
            kept = await OutboxRepository(session).all_entries()
        assert [len(entry.kwargs["track_ids"]) for entry in kept] == [3, 3, 1]

        broker.start()
        relay = OutboxRelay(database, connection)
        delivered = 0
        for _ in range(100):  # the api's relay loop, round by round, until the broker is back
            delivered += await relay.flush()
            if delivered == 3:
                break
            await asyncio.sleep(0.1)
        assert delivered == 3
        worker = create_worker(settings)
        worker.burst = True
        await worker.run_async()
    finally:
        await connection.close()
        broker.kill()
    assert await statuses(database) == [ProcessingStatus.COMPLETE] * 7
    async with database.session() as session:
        assert await OutboxRepository(session).count() == 0
