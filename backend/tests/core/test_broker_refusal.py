"""Telling a broker that refuses writes from one that is away or answers another error.

The errors come from real clients (redis-py and coredis, streaq's) against a real Redis
driven out of memory; none is built by hand.
"""

from __future__ import annotations

import coredis
import pytest
import redis

from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.broker_refusal import describe_refusal, refuses_writes, write_refusal

from tests.own_redis import OwnRedis
from tests.process_probes import free_port


def redis_py_refusal(url: str) -> redis.exceptions.RedisError:
    client = redis.Redis.from_url(url)
    try:
        client.set("k", "v")
    except redis.exceptions.RedisError as exc:
        return exc
    finally:
        client.close()
    raise AssertionError("the write was taken")


async def coredis_pipeline_refusal(url: str) -> Exception:
    """What streaq's client raises: the pipeline's error, in the client's task group."""
    client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
    try:
        async with client, client.pipeline(transaction=False) as pipe:
            pipe.set("k", "v")
    except Exception as exc:
        return exc
    raise AssertionError("the write was taken")


async def test_refusals_of_both_clients_are_recognised_wrapped_or_not(
    started_redis: OwnRedis,
) -> None:
    started_redis.refuse_writes()
    plain = redis_py_refusal(started_redis.url)
    piped = await coredis_pipeline_refusal(started_redis.url)
    wrapped = BrokerUnavailableError("cannot take the write lock")
    wrapped.__cause__ = plain
    grouped = ExceptionGroup("unhandled errors in a TaskGroup", [piped])
    for error in (plain, piped, wrapped, grouped):
        assert refuses_writes(error), repr(error)
        assert describe_refusal(error).startswith("OOM command not allowed"), repr(error)
    assert (await write_refusal(started_redis.url) or "").startswith(
        "the broker refuses writes: OOM"
    )
    started_redis.accept_writes()
    assert await write_refusal(started_redis.url) is None


async def test_other_broker_errors_are_not_refusals(started_redis: OwnRedis) -> None:
    client = redis.Redis.from_url(started_redis.url)
    client.lpush("a-list", "x")
    with pytest.raises(redis.exceptions.ResponseError) as wrong_type:
        client.get("a-list")
    client.close()
    with pytest.raises(redis.exceptions.ConnectionError) as away:
        redis.Redis(port=free_port(), socket_connect_timeout=0.5).ping()
    assert not refuses_writes(wrong_type.value)
    assert not refuses_writes(away.value)
    assert not refuses_writes(ValueError("OOM in a message of the app"))
    # away is not "refusing": PING already reports that one
    assert await write_refusal(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5) is None
