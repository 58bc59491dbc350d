"""The api's one streaq connection: opened at start-up, reopened when the broker comes back.

An api started while the broker is down still serves the library and answers 503 to what
needs a job. streaq (over coredis and anyio) connects eagerly inside a task group, so the
connection lives in a task of its own that owns it from open to close, never in a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mus.application.job_queue import BrokerUnavailableError, JobQueue, check_job
from mus.core.broker_preflight import BrokerRefusedError, refuse_unfit_broker
from mus.core.config import Settings
from mus.core.streaq_broker import StreaqJobQueue, create_worker, root_cause
from mus.infrastructure.broker.broker_probe import mask_url

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
FIRST_ATTEMPT_SECONDS = 10.0
MIN_GAP_SECONDS = 0.5


class StreaqConnection:
    """A JobQueue whose broker connection is kept by a background task."""

    def __init__(self, settings: Settings, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self._settings = settings
        self._retry_seconds = retry_seconds
        self._queue: StreaqJobQueue | None = None
        self._problem = f"not connected yet to the broker at {mask_url(settings.redis_url)}"
        self._attempted = asyncio.Event()
        self._reconnect = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._queue is not None

    async def enqueue(self, queue_name: str, task_name: str, **kwargs: Any) -> str:
        check_job(queue_name, task_name, kwargs)  # a wrong job is a wrong job, broker or not
        queue = self._queue
        if queue is None:
            self._reconnect.set()
            raise BrokerUnavailableError(f"broker unavailable: {self._problem}")
        try:
            return await queue.enqueue(queue_name, task_name, **kwargs)
        except BrokerUnavailableError:
            self._reconnect.set()  # reopen rather than trust a half-dead pool
            raise

    async def start(self, *, wait_seconds: float = FIRST_ATTEMPT_SECONDS) -> None:
        """Start the keeper and wait for its first attempt, so a healthy start is connected."""
        self._task = asyncio.create_task(self._keep(), name="streaq-connection")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds):
                await self._attempted.wait()

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _keep(self) -> None:
        while not self._stop.is_set():
            self._reconnect.clear()
            problem = await self._connect_and_hold()
            if self._stop.is_set():
                return
            if problem != self._problem:
                logger.warning("job queue unavailable: %s; retrying", problem)
            self._problem = problem
            self._attempted.set()
            await self._wait_for(self._stop, MIN_GAP_SECONDS)  # a burst of requests is one try
            await self._wait_for(self._reconnect, self._retry_seconds)

    async def _connect_and_hold(self) -> str:
        """Hold one connection until told to stop or reconnect; return why it ended."""
        url = self._settings.redis_url
        try:
            await refuse_unfit_broker(url, allow_unreachable=False)
        except BrokerRefusedError as exc:
            return str(exc)
        try:
            async with create_worker(self._settings) as worker:
                self._queue = StreaqJobQueue(worker)
                logger.info("job queue connected to %s", mask_url(url))
                self._attempted.set()
                try:
                    await self._wait_for(self._reconnect, None)
                finally:
                    self._queue = None
        except Exception as exc:  # coredis raises inside an anyio task group
            return f"cannot connect to the broker at {mask_url(url)}: {root_cause(exc)}"
        return f"the connection to the broker at {mask_url(url)} was lost"

    async def _wait_for(self, event: asyncio.Event, timeout: float | None) -> None:  # noqa: ASYNC109
        """Wait for `event` or stop, at most `timeout` seconds."""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


@asynccontextmanager
async def open_streaq_connection(settings: Settings) -> AsyncIterator[JobQueue]:
    """The api's job queue for its lifetime: connected now if the broker is up, later if not."""
    connection = StreaqConnection(settings)
    await connection.start()
    try:
        yield connection
    finally:
        await connection.close()
