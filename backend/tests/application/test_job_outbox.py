"""The outbox relay sends a claimed batch with one `enqueue_many`, on a real Redis."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.outbox_repository import OutboxRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqConnection, StreaqJobQueue, create_producer
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.application.job_queue import JobRequest
from mus.core.config import Settings
from mus.core.streaq_broker import MusWorker
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.jobs.runtime import JobRuntime
from mus.worker import create_worker

from tests.own_redis import OwnRedis
from tests.queued_jobs import queued_jobs
from tests.round_trip_proxy import RoundTripProxy


async def kept_count(database: Database) -> int:
    async with database.session() as session:
        return await OutboxRepository(session).count()


async def test_a_kept_batch_is_sent_in_one_round_trip_on_its_priorities(
    settings: Settings, database: Database, round_trip_proxy: RoundTripProxy
) -> None:
    async with database.session() as session:
        ids = [await keep_job(session, "process_slow_metadata", track_id=n) for n in range(30)]
        ids.append(await keep_job(session, "handle_file_deleted", file_path="gone.mp3"))
        ids.append(await keep_job(session, "handle_file_moved", src_path="a", dest_path="b"))
    proxied = settings.model_copy(update={"redis_url": round_trip_proxy.url})
    async with create_producer(proxied) as client:
        relay = OutboxRelay(database, StreaqJobQueue(client))
        await client.redis.ping()  # the connection is open before counting
        before = round_trip_proxy.round_trips
        sent = await relay.send(ids)
        trips = round_trip_proxy.round_trips - before
    assert (sent, trips) == (32, 1)
    assert await queued_jobs(settings, "high_priority") == [
        ("handle_file_deleted", {"file_path": "gone.mp3"})
    ]
    assert await queued_jobs(settings, "medium_priority") == [
        ("handle_file_moved", {"src_path": "a", "dest_path": "b"})
    ]
    assert await queued_jobs(settings, "low_priority") == [
        ("process_slow_metadata", {"track_id": n}) for n in range(30)
    ]
    assert await kept_count(database) == 0


async def test_an_entry_no_job_matches_is_dropped_and_the_rest_still_sent(
    settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.session() as session:
        first = await keep_job(session, "handle_file_created", file_path="a.mp3")
        # what an older mus may have kept: a job this release no longer knows
        stale = await OutboxRepository(session).add(
            "handle_file_exploded", {"file_path": "b.mp3"}, due_in=0
        )
        last = await keep_job(session, "handle_file_created", file_path="c.mp3")
    async with create_producer(settings) as client:
        with caplog.at_level(logging.ERROR, logger="mus.application.job_outbox"):
            sent = await OutboxRelay(database, StreaqJobQueue(client)).send([first, stale, last])
    assert sent == 2
    assert await queued_jobs(settings, "high_priority") == [
        ("handle_file_created", {"file_path": "a.mp3"}),
        ("handle_file_created", {"file_path": "c.mp3"}),
    ]
    assert "dropping handle_file_exploded{'file_path': 'b.mp3'}: unknown job" in caplog.text
    assert await kept_count(database) == 0


async def test_with_the_broker_down_the_whole_batch_stays_kept(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    broker = OwnRedis(tmp_path / "redis-aof")
    settings = settings.model_copy(update={"redis_url": broker.url})
    async with database.session() as session:
        ids = [
            await keep_job(session, "handle_file_created", file_path=f"{n}.mp3") for n in range(5)
        ]
    connection = StreaqConnection(settings, retry_seconds=0.2)
    await connection.start(wait_seconds=5)
    try:
        relay = OutboxRelay(database, connection)
        assert await relay.send(ids) == 0
        async with database.session() as session:
            kept = await OutboxRepository(session).all_entries()
        assert [entry.kwargs["file_path"] for entry in kept] == [f"{n}.mp3" for n in range(5)]

        broker.start()
        for _ in range(100):  # the relay loop's rounds until the connection is back
            if await relay.flush() == 5:
                break
            await asyncio.sleep(0.1)
        assert await queued_jobs(settings, "high_priority") == [
            ("handle_file_created", {"file_path": f"{n}.mp3"}) for n in range(5)
        ]
    finally:
        await connection.close()
        broker.kill()
    assert await kept_count(database) == 0


async def test_a_batch_sent_again_whole_ends_as_if_sent_once(
    settings: Settings, database: Database
) -> None:
    """What a resend after a pipeline cut off mid-batch does: every job kind delivered twice,
    the two copies free to run side by side, leaves the state one delivery leaves."""
    root = settings.music_dir_path
    for name, audio_format in [
        ("keep.mp3", "mp3"),
        ("old.ogg", "ogg"),
        ("gone.wav", "wav"),
        ("doomed.flac", "flac"),
        ("rename.mp3", "mp3"),
    ]:
        write_audio(AudioSpec(name, audio_format, title="Before"), root)
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        await port.enqueue_many(
            [
                JobRequest("handle_file_created", {"file_path": name})
                for name in ["keep.mp3", "old.ogg", "gone.wav", "doomed.flac", "rename.mp3"]
            ]
        )
        await run_worker_until_idle(settings)
        ids = await track_ids(database)

        write_audio(AudioSpec("keep.mp3", "mp3", title="After"), root)
        (root / "old.ogg").rename(root / "moved.ogg")
        (root / "gone.wav").unlink()
        write_audio(AudioSpec("new.m4a", "m4a", title="New"), root)
        batch = [
            JobRequest("handle_file_created", {"file_path": "new.m4a"}),
            JobRequest("handle_file_modified", {"file_path": "keep.mp3"}),
            JobRequest("handle_file_moved", {"src_path": "old.ogg", "dest_path": "moved.ogg"}),
            JobRequest("handle_file_deleted", {"file_path": "gone.wav"}),
            JobRequest("delete_track_with_files", {"track_id": ids["doomed.flac"]}),
            JobRequest(
                "update_track_path_by_id",
                {"track_id": ids["rename.mp3"], "new_file_path": "renamed.mp3"},
            ),
            JobRequest("process_slow_metadata", {"track_id": ids["keep.mp3"]}),
            JobRequest("process_slow_metadata_batch", {"track_ids": [ids["rename.mp3"]]}),
        ]
        task_ids = await port.enqueue_many([*batch, *batch])
        worker = await run_worker_until_idle(settings)
        results = [await client.result_by_id(task_id, timeout=5) for task_id in task_ids]
    assert all(result.success for result in results)
    assert worker.counters["failed"] == 0
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
    assert sorted((t.file_path, t.title, t.processing_status.value) for t in tracks) == [
        ("keep.mp3", "After", "COMPLETE"),
        ("moved.ogg", "Before", "COMPLETE"),
        ("new.m4a", "New", "COMPLETE"),
        ("renamed.mp3", "Before", "COMPLETE"),
    ]
    by_path = {track.file_path: track.id for track in tracks}
    assert (by_path["moved.ogg"], by_path["renamed.mp3"]) == (ids["old.ogg"], ids["rename.mp3"])
    assert sorted(path.name for path in root.iterdir()) == [
        "keep.mp3",
        "moved.ogg",
        "new.m4a",
        "renamed.mp3",
    ]
    assert all(track.last_error is None for track in tracks)


async def run_worker_until_idle(settings: Settings) -> MusWorker[JobRuntime]:
    worker = create_worker(settings)
    worker.burst = True
    await worker.run_async()
    return worker


async def track_ids(database: Database) -> dict[str, int]:
    async with database.session() as session:
        return {t.file_path: t.id for t in await TrackRepository(session).list_tracks()}
