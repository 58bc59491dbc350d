"""The api's streaq connection: 503 while the broker is away, back on its own when it returns."""

from __future__ import annotations

import asyncio

import pytest

from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.application.job_queue import JobRejectedError, JobRequest
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings

from tests.own_redis import OwnRedis
from tests.queued_jobs import queued_jobs
from tests.stub_broker import DRAGONFLY_INFO, StartStub


async def enqueue_eventually(connection: StreaqConnection, within_seconds: float = 15) -> str:
    """Enqueue, retrying while the connection reports the broker unavailable."""
    async with asyncio.timeout(within_seconds):
        while True:
            try:
                return await connection.enqueue("handle_file_created", file_path="back.mp3")
            except BrokerUnavailableError:
                await asyncio.sleep(0.1)


async def test_a_healthy_broker_is_connected_once_start_returns(settings: Settings) -> None:
    connection = StreaqConnection(settings)
    await connection.start()
    try:
        assert connection.connected
        await connection.enqueue("handle_file_moved", src_path="a", dest_path="b")
        assert await queued_jobs(settings, "medium_priority") == [
            ("handle_file_moved", {"src_path": "a", "dest_path": "b"})
        ]
    finally:
        await connection.close()


async def test_started_without_a_broker_it_refuses_clearly_then_connects_when_one_appears(
    settings: Settings, own_redis: OwnRedis
) -> None:
    connection = StreaqConnection(
        settings.model_copy(update={"redis_url": own_redis.url}), retry_seconds=0.2
    )
    await connection.start()
    try:
        assert not connection.connected
        with pytest.raises(BrokerUnavailableError) as raised:
            await connection.enqueue("handle_file_created", file_path="a.mp3")
        message = str(raised.value)
        assert message == (
            f"broker unavailable: cannot reach the broker at {own_redis.url}: Connection refused"
        )
        with pytest.raises(JobRejectedError):  # a wrong job is refused as such, broker or not
            await connection.enqueue("no_such_job")

        own_redis.start()
        task_id = await enqueue_eventually(connection)
        assert task_id
        assert connection.connected
    finally:
        await connection.close()


async def test_broker_lost_is_503_and_its_return_is_picked_up(
    settings: Settings, own_redis: OwnRedis
) -> None:
    own_redis.start()
    connection = StreaqConnection(
        settings.model_copy(update={"redis_url": own_redis.url}), retry_seconds=0.2
    )
    await connection.start()
    try:
        await connection.enqueue("handle_file_created", file_path="a.mp3")
        await asyncio.to_thread(own_redis.stop)
        with pytest.raises(BrokerUnavailableError, match="broker unavailable"):
            await connection.enqueue("handle_file_created", file_path="b.mp3")

        await asyncio.to_thread(own_redis.start)
        assert await enqueue_eventually(connection)
    finally:
        await connection.close()


async def test_a_broker_without_functions_is_named_and_never_loaded_into(
    settings: Settings, stub_broker: StartStub
) -> None:
    stub = await stub_broker(DRAGONFLY_INFO)
    connection = StreaqConnection(settings.model_copy(update={"redis_url": stub.url}))
    await connection.start()
    try:
        with pytest.raises(BrokerUnavailableError, match=r"DragonflyDB 1\.25\.1, which has no"):
            await connection.enqueue("handle_file_created", file_path="a.mp3")
    finally:
        await connection.close()
    assert not any(command.startswith(("FUNCTION LOAD", "FCALL")) for command in stub.commands)


async def test_a_batch_with_the_broker_away_is_refused_whole_and_a_wrong_one_as_wrong(
    settings: Settings, own_redis: OwnRedis
) -> None:
    own_redis.start()
    connection = StreaqConnection(
        settings.model_copy(update={"redis_url": own_redis.url}), retry_seconds=0.2
    )
    await connection.start()
    batch = [
        JobRequest("handle_file_created", {"file_path": "a.mp3"}),
        JobRequest("process_slow_metadata", {"track_id": 1}),
    ]
    try:
        assert connection.connected
        await asyncio.to_thread(own_redis.kill)  # lost under a connected client: a crash
        with pytest.raises(BrokerUnavailableError, match="broker unavailable"):
            await connection.enqueue_many(batch)
        with pytest.raises(JobRejectedError, match="job 2 of 2 in the batch"):
            await connection.enqueue_many([batch[0], JobRequest("no_such_job", {})])
        await asyncio.to_thread(own_redis.start)  # empty: the refused batch never reached it
        ids = await enqueue_many_eventually(connection, batch)
        assert len(ids) == 2
        assert await queued_jobs(
            settings.model_copy(update={"redis_url": own_redis.url}), "high_priority"
        ) == [("handle_file_created", {"file_path": "a.mp3"})]
    finally:
        await connection.close()


async def enqueue_many_eventually(
    connection: StreaqConnection, jobs: list[JobRequest], within_seconds: float = 15
) -> list[str]:
    async with asyncio.timeout(within_seconds):
        while True:
            try:
                return await connection.enqueue_many(jobs)
            except BrokerUnavailableError:
                await asyncio.sleep(0.1)


async def test_a_broker_out_of_memory_is_named_as_refusing_writes_and_picked_up_when_freed(
    settings: Settings, started_redis: OwnRedis
) -> None:
    """`noeviction` past maxmemory: PING answers, streaq cannot even load its Functions."""
    started_redis.refuse_writes()
    connection = StreaqConnection(
        settings.model_copy(update={"redis_url": started_redis.url}), retry_seconds=0.2
    )
    await connection.start()
    try:
        assert not connection.connected
        with pytest.raises(BrokerUnavailableError) as raised:
            await connection.enqueue("handle_file_created", file_path="a.mp3")
        assert str(raised.value) == (
            f"broker unavailable: the broker at {started_redis.url} refuses writes: "
            "OOM command not allowed when used memory > 'maxmemory'."
        )
        started_redis.accept_writes()
        assert await enqueue_eventually(connection)
    finally:
        await connection.close()
