"""streaq wiring, the one module that names the queue backend: worker, enqueue port, api link.

`streaq run mus.core.streaq_broker:worker` runs every job, highest priority first (the three
queues are streaq priorities of one queue); `MUS_WORKER_QUEUES=high_priority` (comma-separated)
makes it a dedicated worker for a subset. The api enqueues through a producer-only client (no
job registry, no worker lifespan) held by a task of its own, and keeps serving with the broker
down. Jobs and results travel as JSON, never pickle. Both sides probe the broker before streaq
loads its Functions, so DragonflyDB or Redis 6 is refused with one sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskStatus
from coredis.exceptions import ConnectionError as CoredisConnectionError
from coredis.exceptions import RedisError as CoredisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from streaq import Worker
from streaq.constants import REDIS_RETRY
from streaq.task import Task
from streaq.types import StreaqError, StreaqRetry

from mus.application.job_catalogue import QUEUES_BY_PRIORITY, QueueName
from mus.application.job_queue import JobQueue, JobRequest, route_job, route_jobs
from mus.core.broker_fault_tries import StartedJobs, give_back_tries
from mus.core.broker_preflight import (
    BrokerRefusedError,
    BrokerUnavailableError,
    mask_url,
    refuse_unfit_broker,
)
from mus.core.broker_refusal import describe_refusal, refuses_writes, wait_until_writable
from mus.core.config import Settings, get_settings
from mus.core.logging_setup import configure_logging
from mus.core.streaq_retry_log import quiet_streaq_retries
from mus.jobs.registry import JOBS, JobFunction
from mus.jobs.runtime import JobRuntime, install_job_runtime

# streaq wants priorities lowest first.
PRIORITIES: tuple[str, ...] = tuple(queue.value for queue in reversed(QUEUES_BY_PRIORITY))
QUEUE_NAME = "mus"

# How supervisors start a worker: `python -m streaq run mus.core.streaq_broker:worker`.
WORKER_TARGET = "mus.core.streaq_broker:worker"
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

RETRY_SECONDS = 2.0
FIRST_ATTEMPT_SECONDS = 10.0
MIN_GAP_SECONDS = 0.5

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


class StreaqJobQueue:
    """`enqueue(task_name, **kwargs)` on streaq: the catalogue's queue is the task's priority."""

    def __init__(self, client: Worker[Any]) -> None:
        self.client = client

    def _task(self, task_name: str, kwargs: Mapping[str, Any], queue: QueueName) -> Task[Any, Any]:
        """The streaq task of one job at its queue's priority: built, not sent yet."""
        return self.client.enqueue_unsafe(task_name, **kwargs).start(priority=queue.value)

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        queue = route_job(task_name, kwargs)
        try:
            task = await self._task(task_name, kwargs, queue)
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return str(task.id)

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        """The batch in one pipeline (streaq's `enqueue_many`), each job at its queue's priority.

        Routed whole first. streaq's `enqueue_many` publishes each task at `task.priority`,
        which `start(priority=...)` sets without sending anything.
        """
        queues = route_jobs(jobs)
        if not jobs:
            return []
        tasks = [
            self._task(job.task_name, job.kwargs, queue)
            for job, queue in zip(jobs, queues, strict=True)
        ]
        try:
            await self.client.enqueue_many(tasks)
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc
        return [str(task.id) for task in tasks]

    async def backlog(self) -> int:
        """Stream entries (queued, prefetched or running: acknowledged ones are deleted) and
        delayed tasks (retries), over every priority."""
        client = self.client
        try:
            async with client.redis.pipeline(transaction=False) as pipe:
                counts = [pipe.xlen(client.stream_key + name) for name in PRIORITIES]
                counts += [pipe.zcard(client.queue_key + name) for name in PRIORITIES]
            return sum([int(await count) for count in counts])
        except (CoredisError, StreaqError, OSError) as exc:
            raise BrokerUnavailableError(f"broker unavailable: {exc}") from exc


def create_producer(settings: Settings) -> Worker[Any]:
    """A streaq client that only enqueues and reads results: no jobs, no lifespan, no consumer.

    streaq's documented way to separate enqueuing from task definitions; connect it with
    `async with`.
    """
    return Worker(
        redis_url=settings.redis_url,
        queue_name=QUEUE_NAME,
        priorities=list(PRIORITIES),  # a fresh list: streaq reverses the one it is given
        serializer=to_json,
        deserializer=from_json,
        handle_signals=False,
    )


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

    @property
    def client(self) -> Worker[Any] | None:
        """The connected producer client (for reading the queue), None while disconnected."""
        queue = self._queue
        return queue.client if queue is not None else None

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        route_job(task_name, kwargs)  # a wrong job is a wrong job, broker or not
        queue = self._live_queue()
        try:
            return await queue.enqueue(task_name, **kwargs)
        except BrokerUnavailableError:
            self._reconnect.set()  # reopen rather than trust a half-dead pool
            raise

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        route_jobs(jobs)  # a wrong batch is a wrong batch, broker or not
        queue = self._live_queue()
        try:
            return await queue.enqueue_many(jobs)
        except BrokerUnavailableError:
            self._reconnect.set()
            raise

    async def backlog(self) -> int:
        queue = self._live_queue()
        try:
            return await queue.backlog()
        except BrokerUnavailableError:
            self._reconnect.set()
            raise

    def _live_queue(self) -> StreaqJobQueue:
        """The connected queue; while a reconnect is pending its pool may be dead already
        (coredis then raises a bare RuntimeError), so it is refused as unavailable too."""
        queue = self._queue
        if queue is None or self._reconnect.is_set():
            self._reconnect.set()
            raise BrokerUnavailableError(f"broker unavailable: {self._problem}")
        return queue

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
            async with create_producer(self._settings) as client:
                self._queue = StreaqJobQueue(client)
                logger.info("job queue connected to %s", mask_url(url))
                self._attempted.set()
                try:
                    await self._wait_for(self._reconnect, None)
                finally:
                    self._queue = None
        except Exception as exc:  # coredis raises inside an anyio task group
            if refuses_writes(exc):  # out of memory: it answers, but cannot load streaq's code
                return f"the broker at {mask_url(url)} refuses writes: {describe_refusal(exc)}"
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
async def open_job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The api's job queue for its lifetime: connected now if the broker is up, later if not."""
    connection = StreaqConnection(settings)
    await connection.start()
    try:
        yield connection
    finally:
        await connection.close()


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


class MusWorker(Worker[JobRuntime]):
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
        rebuild: Callable[[], MusWorker] | None = None,
        started_jobs: StartedJobs | None = None,
        **options: Any,
    ) -> None:
        super().__init__(redis_url=redis_url, **options)
        self.broker_url = redis_url  # streaq keeps only the client it built from it
        self.rebuild = rebuild
        self.started_jobs = started_jobs

    async def run_async(self, *, task_status: TaskStatus[None] = TASK_STATUS_IGNORED) -> None:
        configure_worker_logging()
        try:
            info = await refuse_unfit_broker(self.broker_url, allow_unreachable=False)
        except BrokerRefusedError as exc:
            # SystemExit with a message: the streaq CLI exits 1 printing this one line.
            raise SystemExit(f"mus worker not started: {exc}") from None
        logger.info("broker %s at %s", info.product, info.url)
        runner: Worker[JobRuntime] = self
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


def create_worker(
    settings: Settings,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> MusWorker:
    """A streaq Worker with every job registered (task name = function name).

    `queues` limits what it consumes (e.g. a dedicated high-priority worker); it may still
    enqueue on every queue, as chained jobs do. Concurrency (unless given), prefetch and the
    grace running jobs get on SIGTERM/SIGINT come from the settings.
    """
    unknown = set(queues or ()) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}: choose from {list(PRIORITIES)}")
    # A fresh list each time: streaq reverses the list it is given in place.
    priorities = [name for name in PRIORITIES if queues is None or name in queues]
    started_jobs = StartedJobs()  # shared by the twins a broker fault makes

    def build() -> MusWorker:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[JobRuntime]:
            runtime = await JobRuntime.open(settings, StreaqJobQueue(worker))
            install_job_runtime(runtime)
            try:
                yield runtime
            finally:
                install_job_runtime(None)
                await runtime.close()

        worker = MusWorker(
            redis_url=settings.redis_url,
            rebuild=build,
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
        tasks = [
            worker.task(name=name, max_tries=MAX_TRIES)(retried_when_the_broker_is_away(job))
            for name, job in JOBS.items()
        ]
        # `context` of any registered task is the running one's (a context variable).
        worker.middleware(started_jobs.middleware(lambda: tasks[0].context.task_id))
        return worker

    return build()


def root_cause(exc: BaseException) -> str:
    """The first real error inside (possibly nested) exception groups, as one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def worker_from_settings(settings: Settings) -> MusWorker:
    """The worker `streaq run` starts: the queues and concurrency the environment asks for."""
    try:
        return create_worker(settings, queues=settings.worker_queue_names)
    except ValueError as exc:  # a typo in MUS_WORKER_QUEUES: one line, not a trace
        raise SystemExit(f"mus worker not started: MUS_WORKER_QUEUES: {exc}") from None


@functools.cache
def cli_worker() -> MusWorker:
    """The one Worker of a `streaq run` process, built from the environment when first asked."""
    return worker_from_settings(get_settings())


def __getattr__(name: str) -> MusWorker:
    # `streaq run mus.core.streaq_broker:worker` reads this attribute; the api, which imports
    # this module for the enqueue port, never builds (or validates) a worker of its own.
    if name == "worker":
        return cli_worker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
