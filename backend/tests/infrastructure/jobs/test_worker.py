"""Real arq workers: every named queue is consumed, and a failing job never kills a worker."""

from __future__ import annotations

from arq import ArqRedis
from arq.worker import Worker

from mus.core.arq_pool import ArqJobQueue, arq_queue_key
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus
from mus.infrastructure.jobs.job_catalogue import QueueName
from mus.infrastructure.jobs.registered_jobs import JOBS
from mus.infrastructure.jobs.worker import FUNCTIONS, WORKERS_BY_QUEUE, worker_settings
from mus.infrastructure.persistence.database import Database
from mus.infrastructure.persistence.track_repository import TrackRepository


def test_every_queue_has_a_worker_listening_on_its_key() -> None:
    assert set(WORKERS_BY_QUEUE) == set(QueueName)
    for queue, worker_class in WORKERS_BY_QUEUE.items():
        assert worker_class.queue_name == arq_queue_key(queue.value)
    assert sorted(function.name for function in FUNCTIONS) == sorted(JOBS)


async def drain(queue: QueueName) -> Worker:
    worker = Worker(**worker_settings(queue, burst=True, handle_signals=False, poll_delay=0.05))
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


async def test_a_job_enqueued_on_any_queue_runs(
    settings: Settings, database: Database, arq_pool: ArqRedis
) -> None:
    root = settings.music_dir_path
    write_audio(AudioSpec("high.mp3", "mp3", title="High"), root)
    write_audio(AudioSpec("medium.flac", "flac", title="Medium"), root)
    queue = ArqJobQueue(arq_pool)
    await queue.enqueue("high_priority", "handle_file_created", file_path="high.mp3")
    await queue.enqueue("medium_priority", "handle_file_modified", file_path="medium.flac")

    high = await drain(QueueName.HIGH)
    medium = await drain(QueueName.MEDIUM)
    low = await drain(QueueName.LOW)  # the slow jobs both of them chained

    assert (high.jobs_complete, high.jobs_failed) == (1, 0)
    assert (medium.jobs_complete, medium.jobs_failed) == (1, 0)
    assert (low.jobs_complete, low.jobs_failed) == (2, 0)
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
    assert sorted((t.file_path, t.processing_status) for t in tracks) == [
        ("high.mp3", ProcessingStatus.COMPLETE),
        ("medium.flac", ProcessingStatus.COMPLETE),
    ]
    results = {r.function: r for r in await arq_pool.all_job_results()}
    assert results["handle_file_created"].result["outcome"] == "added"
    assert results["handle_file_created"].queue_name == arq_queue_key("high_priority")


async def test_a_failing_job_is_recorded_and_the_worker_goes_on(
    settings: Settings, database: Database, arq_pool: ArqRedis
) -> None:
    write_audio(AudioSpec("bad.ogg", "ogg", corrupt=True), settings.music_dir_path)
    write_audio(AudioSpec("good.wav", "wav"), settings.music_dir_path)
    queue = ArqJobQueue(arq_pool)
    await queue.enqueue("high_priority", "handle_file_created", file_path="bad.ogg")
    await queue.enqueue("high_priority", "handle_file_created", file_path="good.wav")
    await drain(QueueName.HIGH)
    low = await drain(QueueName.LOW)
    assert (low.jobs_complete, low.jobs_failed) == (2, 0)
    async with database.session() as session:
        repo = TrackRepository(session)
        bad = await repo.get_by_path("bad.ogg")
        good = await repo.get_by_path("good.wav")
    assert bad is not None and bad.processing_status is ProcessingStatus.ERROR
    assert good is not None and good.processing_status is ProcessingStatus.COMPLETE
