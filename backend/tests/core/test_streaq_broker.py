"""streaq wiring on a real Redis: routing to priorities, JSON on the wire, highest first."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from streaq import Worker

from mus.application.job_queue import BrokerUnavailableError, UnknownJobError
from mus.core.config import Settings
from mus.core.streaq_broker import (
    PRIORITIES,
    QUEUE_NAME,
    StreaqJobQueue,
    create_worker,
    from_json,
    open_streaq_job_queue,
    to_json,
)
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.infrastructure.jobs.registered_jobs import JOBS
from mus.infrastructure.persistence.database import Database
from mus.infrastructure.persistence.track_repository import TrackRepository

from tests.process_probes import free_port, wait_until


def test_queues_are_priorities_lowest_first_and_every_job_is_a_task(settings: Settings) -> None:
    assert PRIORITIES == ("low_priority", "medium_priority", "high_priority")
    worker = create_worker(settings)
    assert sorted(worker.registry) == sorted(JOBS)
    assert worker.priorities == ["high_priority", "medium_priority", "low_priority"]
    assert create_worker(settings, queues=["high_priority"]).priorities == ["high_priority"]
    with pytest.raises(ValueError, match="unknown queue"):
        create_worker(settings, queues=["urgent"])


def test_json_codec_never_pickles() -> None:
    assert from_json(to_json({"k": {"track_id": 3}})) == {"k": {"track_id": 3}}
    assert to_json({"error": ValueError("x")}) == b'{"error": "ValueError(\'x\')"}'


async def test_enqueue_writes_json_to_the_queue_priority_stream(settings: Settings) -> None:
    client = create_worker(settings)
    async with client:
        task_id = await StreaqJobQueue(client).enqueue(
            "medium_priority", "handle_file_moved", src_path="a.mp3", dest_path="b.mp3"
        )
        assert await client.redis.xlen(client.stream_key + "medium_priority") == 1
        assert await client.redis.xlen(client.stream_key + "high_priority") == 0
        raw = await client.redis.get(f"streaq:{QUEUE_NAME}:task:data:{task_id}")
        assert raw is not None
        body = json.loads(raw)
        assert body["f"] == "handle_file_moved"
        assert body["k"] == {"src_path": "a.mp3", "dest_path": "b.mp3"}


async def test_unknown_job_or_queue_raises_before_redis_sees_it(settings: Settings) -> None:
    client = create_worker(settings)
    async with client:
        port = StreaqJobQueue(client)
        with pytest.raises(UnknownJobError):
            await port.enqueue("high_priority", "no_such_job", track_id=1)
        with pytest.raises(UnknownJobError):
            await port.enqueue("urgent", "handle_file_created", file_path="a.mp3")
        assert await client.queue_size() == 0


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, which the test may stop."""
    port_number = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port_number), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port_number}/0"
    try:
        wait_until(lambda: _answers(url), 10, "the test's own redis-server")
        yield url, server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.RedisError:
        return False


async def test_broker_lost_after_connecting_is_a_clear_error(
    settings: Settings, own_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, server = own_redis
    async with open_streaq_job_queue(settings.model_copy(update={"redis_url": url})) as port:
        await port.enqueue("high_priority", "handle_file_created", file_path="a.mp3")
        server.terminate()
        await asyncio.to_thread(server.wait, 10)
        with pytest.raises(BrokerUnavailableError, match="broker unavailable"):
            await port.enqueue("high_priority", "handle_file_created", file_path="b.mp3")


async def test_connecting_to_nothing_is_a_clear_error(settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://:secret@127.0.0.1:{free_port()}/0"})
    with pytest.raises(BrokerUnavailableError) as raised:
        async with open_streaq_job_queue(down):
            pass
    message = str(raised.value)
    assert message.startswith("cannot connect to the broker at redis://:***@127.0.0.1:")
    assert "ConnectionError" in message
    assert "secret" not in message


async def test_one_worker_of_concurrency_one_runs_high_before_a_low_backlog(
    settings: Settings, database: Database
) -> None:
    """streaq-only behaviour: the three queues are priorities of one stream set."""
    root = settings.music_dir_path
    write_audio(AudioSpec("urgent.wav", "wav", title="Urgent"), root)
    client = create_worker(settings)
    async with client:
        port = StreaqJobQueue(client)
        backlog = [
            await port.enqueue("low_priority", "process_slow_metadata", track_id=1000 + n)
            for n in range(20)
        ]
        urgent = await port.enqueue("high_priority", "handle_file_created", file_path="urgent.wav")
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
