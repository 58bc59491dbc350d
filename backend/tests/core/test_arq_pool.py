"""The arq side of the enqueue port: JSON on the right queue key, clear errors."""

from __future__ import annotations

import json
import socket

import pytest
import redis

from mus.application.job_queue import BrokerUnavailableError, UnknownJobError
from mus.core.arq_pool import ArqJobQueue, arq_queue_key, open_arq_pool
from mus.core.config import Settings


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def test_enqueue_puts_a_json_job_on_its_queue_key(settings: Settings) -> None:
    pool = open_arq_pool(settings)
    try:
        job_id = await ArqJobQueue(pool).enqueue(
            "low_priority", "process_slow_metadata", track_id=7, revision=2
        )
        queued = await pool.zrange(arq_queue_key("low_priority"), 0, -1)
        assert [key.decode() for key in queued] == [job_id]
        raw = await pool.get(f"arq:job:{job_id}")
        job = json.loads(raw)
        assert job["f"] == "process_slow_metadata"
        assert job["k"] == {"track_id": 7, "revision": 2}
        for other in ("high_priority", "medium_priority"):
            assert await pool.zcard(arq_queue_key(other)) == 0
    finally:
        await pool.aclose()


async def test_unknown_job_raises_before_redis_sees_it(settings: Settings) -> None:
    pool = open_arq_pool(settings)
    try:
        with pytest.raises(UnknownJobError):
            await ArqJobQueue(pool).enqueue("high_priority", "no_such_job", track_id=1)
        assert await pool.dbsize() == 0
    finally:
        await pool.aclose()


async def test_broker_down_is_a_clear_error(settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": closed_port_url()})
    pool = open_arq_pool(down)
    try:
        with pytest.raises(BrokerUnavailableError, match="broker unavailable"):
            await ArqJobQueue(pool).enqueue(
                "high_priority", "handle_file_created", file_path="a.mp3"
            )
    finally:
        await pool.aclose()


def test_dragonfly_url_is_an_alias_of_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DRAGONFLY_URL", "redis://broker.example:6380/2")
    assert Settings().redis_url == "redis://broker.example:6380/2"
    client = redis.Redis.from_url(Settings().redis_url)
    assert client.connection_pool.connection_kwargs["port"] == 6380
    client.close()
