"""Refuse an unfit broker with one sentence before streaq loads its Functions on it.

streaq runs `FUNCTION LOAD` as soon as a Worker connects; on DragonflyDB or Redis 6 that
surfaces as a coredis stack trace. The api and the worker ask `broker_probe` first.
"""

from __future__ import annotations

from mus.infrastructure.broker.broker_probe import BrokerInfo, probe_broker


class BrokerRefusedError(RuntimeError):
    """The broker answers but cannot run mus's queues (no Functions, too old)."""


async def refuse_unfit_broker(url: str, *, allow_unreachable: bool) -> BrokerInfo:
    """Raise BrokerRefusedError with the probe's sentence when the broker is unfit.

    `allow_unreachable`: the api starts without a broker (it answers 503 until one
    appears); a worker has nothing to do without one and refuses that too.
    """
    info = await probe_broker(url)
    if not info.reachable and allow_unreachable:
        return info
    problem = info.problem()
    if problem is not None:
        raise BrokerRefusedError(problem)
    return info
