"""streaq wiring on a real Redis: routing to priorities, JSON on the wire, highest first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streaq import Worker

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import PRIORITIES, StreaqJobQueue, create_producer
from mus.application.job_queue import JobRejectedError, JobRequest
from mus.core.config import Settings
from mus.core.streaq_broker import QUEUE_NAME, MusWorker, from_json, to_json
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus
from mus.jobs.registry import JOBS
from mus.worker import create_worker

from tests.queued_jobs import queued_jobs
from tests.round_trip_proxy import RoundTripProxy


def test_queues_are_priorities_lowest_first_and_every_job_is_a_task(settings: Settings) -> None:
    assert PRIORITIES == ("low_priority", "medium_priority", "high_priority")
    worker = create_worker(settings)
    assert sorted(worker.registry) == sorted(JOBS)
    assert worker.priorities == ["high_priority", "medium_priority", "low_priority"]
    assert create_worker(settings, queues=["high_priority"]).priorities == ["high_priority"]
    with pytest.raises(ValueError, match="unknown queue"):
        create_worker(settings, queues=["urgent"])


def test_the_producer_enqueues_only(settings: Settings) -> None:
    """The api's client: streaq's documented producer, with no job registry and no lifespan."""
    producer = create_producer(settings)
    assert producer.registry == {}
    assert producer.priorities == ["high_priority", "medium_priority", "low_priority"]
    assert not isinstance(producer, MusWorker)


def test_json_codec_never_pickles() -> None:
    assert from_json(to_json({"k": {"track_id": 3}})) == {"k": {"track_id": 3}}
    assert to_json({"r": object}) == b'{"r": "<class \'object\'>"}'


def test_a_failed_task_is_stored_with_its_error_class_and_message() -> None:
    stored = from_json(to_json({"s": False, "r": KeyError("track 7")}))
    assert stored == {"s": False, "r": {"error": "KeyError", "message": "'track 7'"}}


async def test_enqueue_writes_json_to_the_queue_priority_stream(settings: Settings) -> None:
    client = create_producer(settings)
    async with client:
        task_id = await StreaqJobQueue(client).enqueue(
            "handle_file_moved", src_path="a.mp3", dest_path="b.mp3"
        )
        assert await client.redis.xlen(client.stream_key + "medium_priority") == 1
        assert await client.redis.xlen(client.stream_key + "high_priority") == 0
        raw = await client.redis.get(f"streaq:{QUEUE_NAME}:task:data:{task_id}")
        assert raw is not None
        body = json.loads(raw)
        assert body["f"] == "handle_file_moved"
        assert body["k"] == {"src_path": "a.mp3", "dest_path": "b.mp3"}


async def test_unknown_job_or_non_json_arguments_raise_before_redis_sees_them(
    settings: Settings,
) -> None:
    client = create_producer(settings)
    async with client:
        port = StreaqJobQueue(client)
        with pytest.raises(JobRejectedError):
            await port.enqueue("no_such_job", track_id=1)
        with pytest.raises(JobRejectedError):
            await port.enqueue("handle_file_created", file_path=object())
        assert await client.queue_size() == 0


async def test_one_worker_of_concurrency_one_runs_high_before_a_low_backlog(
    settings: Settings, database: Database
) -> None:
    """streaq-only behaviour: the three queues are priorities of one stream set."""
    root = settings.music_dir_path
    write_audio(AudioSpec("urgent.wav", "wav", title="Urgent"), root)
    client = create_producer(settings)
    async with client:
        port = StreaqJobQueue(client)
        backlog = [
            await port.enqueue("process_slow_metadata", track_id=1000 + n) for n in range(20)
        ]
        urgent = await port.enqueue("handle_file_created", file_path="urgent.wav")
        worker: Worker[Any] = create_worker(settings, concurrency=1)
        worker.burst = True
        await worker.run_async()
        results = [await client.result_by_id(task_id, timeout=5) for task_id in [urgent, *backlog]]
    starts = [result.start_time for result in results]
    assert starts[0] < min(starts[1:]), "the high-priority job did not run first"
    assert results[0].result["outcome"] == "added"
    assert all(result.result["outcome"] == "missing" for result in results[1:])
    async with database.session() as session:
        assert await TrackRepository(session).count() == 2 - 1


async def run_until_idle(settings: Settings) -> Worker[Any]:
    """The app's streaq worker on all three queues, until nothing is left (chains included)."""
    worker = create_worker(settings)
    worker.burst = True
    await worker.run_async()
    return worker


async def test_a_job_enqueued_on_any_queue_runs(settings: Settings, database: Database) -> None:
    root = settings.music_dir_path
    write_audio(AudioSpec("high.mp3", "mp3", title="High"), root)
    write_audio(AudioSpec("medium.flac", "flac", title="Medium"), root)
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        created = await port.enqueue("handle_file_created", file_path="high.mp3")
        await port.enqueue("handle_file_modified", file_path="medium.flac")

        worker = await run_until_idle(settings)

        assert (worker.counters["completed"], worker.counters["failed"]) == (4, 0)  # + 2 chained
        result = await client.result_by_id(created, timeout=5)
    assert result.success
    assert result.result["outcome"] == "added"
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
    assert sorted((t.file_path, t.processing_status) for t in tracks) == [
        ("high.mp3", ProcessingStatus.COMPLETE),
        ("medium.flac", ProcessingStatus.COMPLETE),
    ]


async def test_a_failing_job_is_recorded_and_the_worker_goes_on(
    settings: Settings, database: Database
) -> None:
    write_audio(AudioSpec("bad.ogg", "ogg", corrupt=True), settings.music_dir_path)
    write_audio(AudioSpec("good.wav", "wav"), settings.music_dir_path)
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        await port.enqueue("handle_file_created", file_path="bad.ogg")
        await port.enqueue("handle_file_created", file_path="good.wav")

    worker = await run_until_idle(settings)

    assert (worker.counters["completed"], worker.counters["failed"]) == (4, 0)
    async with database.session() as session:
        repo = TrackRepository(session)
        bad = await repo.get_by_path("bad.ogg")
        good = await repo.get_by_path("good.wav")
    assert bad is not None and bad.processing_status is ProcessingStatus.ERROR
    assert bad.last_error is not None and bad.last_error.job_name == "process_slow_metadata"
    assert good is not None and good.processing_status is ProcessingStatus.COMPLETE


BATCH = [
    JobRequest("handle_file_created", {"file_path": "new.wav"}),
    JobRequest("process_slow_metadata", {"track_id": 900}),
    JobRequest("handle_file_modified", {"file_path": "changed.flac"}),
    JobRequest("handle_file_deleted", {"file_path": "gone.mp3"}),
    JobRequest("process_slow_metadata", {"track_id": 901}),
    JobRequest("handle_file_moved", {"src_path": "a.ogg", "dest_path": "b.ogg"}),
]
# Written out by hand from DESIGN.md section 3, not read from the catalogue.
BATCH_PRIORITIES = {
    "high_priority": [
        ("handle_file_created", {"file_path": "new.wav"}),
        ("handle_file_deleted", {"file_path": "gone.mp3"}),
    ],
    "medium_priority": [
        ("handle_file_modified", {"file_path": "changed.flac"}),
        ("handle_file_moved", {"src_path": "a.ogg", "dest_path": "b.ogg"}),
    ],
    "low_priority": [
        ("process_slow_metadata", {"track_id": 900}),
        ("process_slow_metadata", {"track_id": 901}),
    ],
}


async def test_a_batch_lands_on_each_job_priority_and_every_job_runs(
    settings: Settings, database: Database
) -> None:
    write_audio(AudioSpec("new.wav", "wav", title="New"), settings.music_dir_path)
    async with create_producer(settings) as client:
        ids = await StreaqJobQueue(client).enqueue_many(BATCH)
        assert len(set(ids)) == len(BATCH)
        for priority, expected in BATCH_PRIORITIES.items():
            assert await queued_jobs(settings, priority) == expected

        worker = await run_until_idle(settings)

        results = [await client.result_by_id(task_id, timeout=5) for task_id in ids]
    assert all(result.success for result in results)
    assert [result.fn_name for result in results] == [job.task_name for job in BATCH]
    assert results[0].result["outcome"] == "added"
    # the batch, and the slow analysis the new file chained
    assert (worker.counters["completed"], worker.counters["failed"]) == (len(BATCH) + 1, 0)
    async with database.session() as session:
        track = await TrackRepository(session).get_by_path("new.wav")
    assert track is not None and track.processing_status is ProcessingStatus.COMPLETE


async def test_a_batch_is_one_round_trip_where_one_by_one_is_one_each(
    settings: Settings, round_trip_proxy: RoundTripProxy
) -> None:
    proxied = settings.model_copy(update={"redis_url": round_trip_proxy.url})
    jobs = [JobRequest("process_slow_metadata", {"track_id": n}) for n in range(60)]
    async with create_producer(proxied) as client:
        port = StreaqJobQueue(client)
        await port.enqueue("process_slow_metadata", track_id=-1)  # connections warmed up

        before = round_trip_proxy.round_trips
        await port.enqueue_many(jobs)
        batch_trips = round_trip_proxy.round_trips - before

        before = round_trip_proxy.round_trips
        for job in jobs:
            await port.enqueue(job.task_name, **job.kwargs)
        single_trips = round_trip_proxy.round_trips - before

        assert await client.redis.xlen(client.stream_key + "low_priority") == 1 + 2 * len(jobs)
    assert batch_trips == 1
    assert single_trips == len(jobs)


async def test_an_invalid_job_refuses_the_whole_batch_before_anything_is_sent(
    settings: Settings,
) -> None:
    async with create_producer(settings) as client:
        port = StreaqJobQueue(client)
        with pytest.raises(JobRejectedError, match=r"job 2 of 3 in the batch: unknown job"):
            await port.enqueue_many(
                [
                    JobRequest("handle_file_created", {"file_path": "a.mp3"}),
                    JobRequest("handle_file_exploded", {"file_path": "b.mp3"}),
                    JobRequest("handle_file_deleted", {"file_path": "c.mp3"}),
                ]
            )
        with pytest.raises(JobRejectedError, match=r"job 1 of 1 in the batch: .*not JSON"):
            await port.enqueue_many([JobRequest("process_slow_metadata", {"track_id": object()})])
        assert await client.queue_size() == 0
        assert await port.enqueue_many([]) == []
