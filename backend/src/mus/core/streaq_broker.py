"""The broker: the one streaq Worker, configured from Settings, that rides out a lost broker.

Everything here is streaq and mus's own ground floor (settings, logging, preflight): how a
worker connects, serialises (JSON, never pickle), retries and survives a broker restart. What
it runs is decided above: `mus.worker` registers the jobs and is what `streaq run` starts
(`streaq run mus.worker:worker`), and `mus.adapters.queue` is the job-queue port on streaq.
Both sides probe the broker before streaq loads its Functions, so DragonflyDB or Redis 6 is
refused with one sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import anyio
from anyio import TASK_STATUS_IGNORED, CancelScope
from anyio.abc import TaskStatus
from coredis.exceptions import ConnectionError as CoredisConnectionError
from coredis.exceptions import StreamConsumerGroupError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from streaq import Worker
from streaq.constants import REDIS_GROUP, REDIS_HEALTH, REDIS_RETRY
from streaq.types import StreaqRetry
from streaq.utils import now_ms

from mus.core.broker_fault_tries import StartedJobs, give_back_tries
from mus.core.broker_preflight import (
    BrokerRefusedError,
    BrokerUnavailableError,
    refuse_unfit_broker,
)
from mus.core.broker_refusal import describe_refusal, refuses_writes, wait_until_writable
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging

QUEUE_NAME = "mus"

# How supervisors start a worker: `python -m streaq run mus.worker:worker`.
WORKER_TARGET = "mus.worker:worker"
WORKER_MODULE_COMMAND: tuple[str, ...] = ("-m", "streaq", "run", WORKER_TARGET)
WORKER_PROCESS_NAME = "streaq-worker"

# A job is delivered at most this often (crash redeliveries and broker retries included);
# past it streaq fails it, and the track is left to the reconciler.
MAX_TRIES = 10
BROKER_RETRY_SECONDS = 2
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 5.0
BROKER_LOST_ERRORS: tuple[type[BaseException], ...] = (
    CoredisConnectionError,
    TimeoutError,  # coredis raises the builtin one
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    BrokerUnavailableError,
)

# What the worker's lifespan yields to its jobs (mus's JobRuntime, chosen by `mus.worker`).
Context = TypeVar("Context")
# The shape of a job streaq runs: keyword arguments in, a JSON-able outcome out.
JobFunction = Callable[..., Awaitable[dict[str, Any]]]
# A worker renews every job it holds this many times per redelivery time (streaq: running
# jobs only, at 0.9 of it): a live worker starved of CPU for most of that time keeps them.
RENEWALS_PER_REDELIVERY = 6

logger = logging.getLogger(__name__)


def failure_document(value: object) -> object:
    """A failed task's exception as `{"error": class, "message": text}`, so whoever reads the
    result store (an operator, the contract suite) gets both without parsing a repr."""
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    return repr(value)


def to_json(value: Any) -> bytes:
    """Tasks and results as JSON; a failed task's exception as its `failure_document`."""
    return json.dumps(value, default=failure_document, sort_keys=True).encode()


def from_json(raw: bytes | str) -> Any:
    return json.loads(raw)


class RetryWithoutTraceback(logging.Filter):
    """streaq logs every retry with the whole traceback; mus retries only when the broker is
    away or refuses writes, not a bug: one line per retry, the cause in a few words (a broker
    out of memory printed 28,000 lines of tracebacks in 4 minutes without this)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        if info and isinstance(info[1], StreaqRetry):
            cause = info[1].__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(info[1])
            record.msg = f"{record.getMessage()} ({reason})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_streaq_retries(streaq_logger: logging.Logger) -> None:
    """Install the filter once on streaq's logger (idempotent)."""
    if not any(isinstance(f, RetryWithoutTraceback) for f in streaq_logger.filters):
        streaq_logger.addFilter(RetryWithoutTraceback())


def configure_worker_logging() -> None:
    """mus's log format for the jobs; streaq's own lines once, in the CLI's format if it set one."""
    configure_logging(get_settings().log_level)
    streaq_logger = logging.getLogger("streaq")
    quiet_streaq_retries(streaq_logger)
    if streaq_logger.handlers:
        streaq_logger.propagate = False


def broker_lost(exc: BaseException) -> bool:
    """Whether an error out of a running worker means the broker went away (not a bug)."""
    if isinstance(exc, BaseExceptionGroup):
        return any(broker_lost(inner) for inner in exc.exceptions)
    return isinstance(exc, BROKER_LOST_ERRORS)


class MusWorker(Worker[Context]):
    """streaq's Worker that refuses an unfit broker and rides out a broker that goes away.

    streaq's own run ends with a connection error when Redis restarts, and a Worker runs
    once (its lifespan is built with it). So when the broker is lost mid-run, this one
    waits for it to come back and carries on with a fresh twin built by `rebuild`; the
    messages it held are redelivered after `idle_timeout`, like those of a killed worker.
    """

    def __init__(
        self,
        *,
        redis_url: str,
        rebuild: Callable[[], MusWorker[Context]] | None = None,
        started_jobs: StartedJobs | None = None,
        **options: Any,
    ) -> None:
        super().__init__(redis_url=redis_url, **options)
        self.broker_url = redis_url  # streaq keeps only the client it built from it
        self.rebuild = rebuild
        self.started_jobs = started_jobs

    async def renew_idle_timeouts(self, scope: CancelScope) -> None:
        """Renew every job this worker holds, running or waiting for a slot, and its health
        key, RENEWALS_PER_REDELIVERY times per `idle_timeout`.

        streaq's own loop renews running jobs only, at 0.9 of the timeout: a job held behind
        a long one was redelivered to another consumer and ran twice, and a live worker
        starved of CPU for a tenth of the timeout lost its running jobs.
        """
        interval = self.idle_timeout / 1000 / RENEWALS_PER_REDELIVERY
        health_key = f"{self.prefix}{REDIS_HEALTH}:{self.id}"
        streams = [self.stream_key + priority for priority in self.priorities]
        with scope:
            while True:
                held: dict[str, list[str]] = {}
                for stream in streams:
                    with contextlib.suppress(StreamConsumerGroupError):  # no group yet
                        pending = await self.redis.xpending(
                            stream, REDIS_GROUP, "-", "+", self.prefetch, consumer=self.id
                        )
                        held[stream] = [str(entry.identifier) for entry in pending]  # type: ignore[union-attr]
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.set(health_key, str(self), px=self.idle_timeout)
                    pipe.zremrangebyscore(self._results_set, 0, now_ms())
                    for stream, ids in held.items():
                        if ids:
                            pipe.xclaim(stream, REDIS_GROUP, self.id, 0, ids, justid=True)
                await anyio.sleep(interval)

    async def run_async(self, *, task_status: TaskStatus[None] = TASK_STATUS_IGNORED) -> None:
        configure_worker_logging()
        try:
            info = await refuse_unfit_broker(self.broker_url, allow_unreachable=False)
        except BrokerRefusedError as exc:
            # SystemExit with a message: the streaq CLI exits 1 printing this one line.
            raise SystemExit(f"mus worker not started: {exc}") from None
        logger.info("broker %s at %s", info.product, info.url)
        runner: Worker[Context] = self
        while True:
            try:
                await Worker.run_async(runner, task_status=task_status)
            except Exception as exc:
                refused = refuses_writes(exc)
                if self.rebuild is None or not (refused or broker_lost(exc)):
                    raise
                if refused:  # out of memory: it answers, and takes no write until freed
                    logger.warning(
                        "broker refusing writes (%s); running jobs will be redelivered, "
                        "waiting until it accepts writes",
                        describe_refusal(exc),
                    )
                    await wait_until_writable(self.broker_url)
                    logger.warning("broker accepts writes again; the worker carries on")
                else:
                    logger.warning(
                        "broker lost (%s); running jobs will be redelivered, waiting for it",
                        root_cause(exc),
                    )
            else:
                return  # a signal, or a burst run that found nothing left
            await wait_for_broker(self.broker_url)
            if self.started_jobs is not None:  # the fault, not the jobs, cost those tries
                await give_back_tries(self.broker_url, self.prefix + REDIS_RETRY, self.started_jobs)
            runner = self.rebuild()
            runner.burst = self.burst
            task_status = TASK_STATUS_IGNORED  # started once already


async def wait_for_broker(url: str) -> None:
    """Probe with backoff until the broker answers and is fit again (an unfit one: exit)."""
    delay = RECONNECT_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        try:
            info = await refuse_unfit_broker(url, allow_unreachable=True)
        except BrokerRefusedError as exc:
            raise SystemExit(f"mus worker stopped: {exc}") from None
        if info.reachable:
            logger.info("broker back: %s at %s; the worker carries on", info.product, info.url)
            return
        logger.debug("broker still away (%s); next try in %.1fs", info.error, delay)
        delay = min(delay * 2, RECONNECT_MAX_SECONDS)


def retried_when_the_broker_is_away(job: JobFunction) -> JobFunction:
    """The job as streaq runs it: a broker lost under it is a retry, never a failure."""

    @functools.wraps(job)
    async def run(**kwargs: Any) -> dict[str, Any]:
        try:
            return await job(**kwargs)
        except BrokerUnavailableError as exc:
            raise StreaqRetry(str(exc), delay=BROKER_RETRY_SECONDS) from exc

    return run


def create_broker(
    settings: Settings,
    *,
    priorities: Sequence[str],
    concurrency: int | None,
    lifespan: Callable[[], AbstractAsyncContextManager[Context]],
    rebuild: Callable[[], MusWorker[Context]],
    started_jobs: StartedJobs | None = None,
) -> MusWorker[Context]:
    """The one streaq Worker, configured from the settings, with no job registered yet.

    Concurrency (unless given), prefetch, the idle time before a held job is redelivered and
    the grace running jobs get on SIGTERM/SIGINT come from the settings.
    """
    return MusWorker(
        redis_url=settings.redis_url,
        rebuild=rebuild,
        started_jobs=started_jobs,
        queue_name=QUEUE_NAME,
        priorities=list(priorities),
        concurrency=settings.worker_concurrency if concurrency is None else concurrency,
        prefetch=settings.worker_prefetch,
        grace_period=settings.worker_grace_seconds,
        idle_timeout=settings.worker_redelivery_seconds,
        serializer=to_json,
        deserializer=from_json,
        lifespan=lifespan,
    )


def root_cause(exc: BaseException) -> str:
    """The first real error inside (possibly nested) exception groups, as one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def __getattr__(name: str) -> Any:
    # The worker's entry lived here until it moved up to `mus.worker` (issue 24): an old
    # command gets one sentence naming the new one, not streaq's ImportError trace.
    if name == "worker":
        raise SystemExit(
            f"mus worker not started: {__name__}:worker moved; run `streaq run {WORKER_TARGET}`"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
