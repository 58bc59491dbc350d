"""The broker as the healthcheck sees it: answering is not enough, it must take a write.

A Redis out of memory (`noeviction`) answers PING and refuses every write, so jobs cannot
be queued or finished; the healthcheck says so instead of `broker: ok`.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mus.core.broker_refusal import describe_refusal, refuses_writes, write_probe


class BrokerRefusesWritesError(RuntimeError):
    """The broker answers but takes no write (out of memory, or unable to persist)."""


async def broker_answers_and_writes(client: Redis) -> None:
    """PING, then a small write that expires by itself; raises what the broker answered."""
    await client.ping()
    try:
        await write_probe(client)
    except RedisError as exc:
        if refuses_writes(exc):
            raise BrokerRefusesWritesError(f"it refuses writes ({describe_refusal(exc)})") from exc
        raise
