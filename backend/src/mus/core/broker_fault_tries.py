"""Tries a broker fault took from a job are given back, so such faults never make streaq give up.

streaq counts a try each time it starts a job (`…:task:retry:<id>`) and gives up after
`max_tries`. A broker that goes away or refuses writes ends the worker's run: the jobs it was
running, and the ones it had just finished but could not acknowledge, run again later and each
costs a try. A broker flapping around `maxmemory` took one file's job to "failed after 10
retries" that way, and the file was never indexed. So the worker remembers which jobs it
started lately and, once the broker takes writes again, gives one try back to each that is not
finished (its retry counter still exists: streaq deletes it when a job is done).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

Runner = Callable[..., Coroutine[Any, Any, Any]]

# Finished jobs remembered: those whose acknowledgement a fault may have cut off.
RECENTLY_FINISHED = 256

# Decrement only a counter that exists and is positive (a finished job has none).
_GIVE_BACK = """
local tries = tonumber(redis.call('GET', KEYS[1]) or '0')
if tries > 0 then
  return redis.call('DECR', KEYS[1])
end
return -1
"""

logger = logging.getLogger(__name__)


class StartedJobs:
    """Task ids this worker process started lately: running now, or finished a moment ago."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._finished: deque[str] = deque(maxlen=RECENTLY_FINISHED)

    def started(self, task_id: str) -> None:
        self._running[task_id] = self._running.get(task_id, 0) + 1

    def ended(self, task_id: str) -> None:
        count = self._running.get(task_id, 0) - 1
        if count > 0:
            self._running[task_id] = count
        else:
            self._running.pop(task_id, None)
        self._finished.append(task_id)

    def candidates(self) -> list[str]:
        """Running or recently finished, each once, oldest first."""
        return list(dict.fromkeys([*self._finished, *self._running]))

    def forget(self) -> None:
        self._finished.clear()

    def middleware(self, current_task_id: Callable[[], str]) -> Callable[[Runner], Runner]:
        """A streaq middleware noting each job's start and end around its runner."""

        def wrap(runner: Runner) -> Runner:
            async def run(*args: Any, **kwargs: Any) -> Any:
                task_id = current_task_id()
                self.started(task_id)
                try:
                    return await runner(*args, **kwargs)
                finally:
                    self.ended(task_id)

            return run

        return wrap


async def give_back_tries(url: str, retry_key_prefix: str, jobs: StartedJobs) -> int:
    """One try back to each unfinished job of `jobs`; returns how many got one."""
    candidates = jobs.candidates()
    if not candidates:
        return 0
    client: Redis = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    given = 0
    try:
        for task_id in candidates:
            left = await client.eval(_GIVE_BACK, 1, retry_key_prefix + task_id)  # type: ignore[misc]
            given += int(left) >= 0
    except RedisError as exc:  # the broker is in trouble again: the next recovery retries
        logger.warning("could not give back the tries a broker fault took: %s", exc)
        return given
    finally:
        await client.aclose()
    jobs.forget()
    return given
