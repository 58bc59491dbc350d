"""arq (the baseline) and streaq side by side on one Redis: figures, never a verdict.

`make bench` runs it from contract_tests/ (arq is a test-only dependency there). Each backend
runs as it is deployed: arq as one worker per queue (three workers of 10 jobs each), streaq
as one worker of concurrency 10 (`MUS_WORKER_CONCURRENCY`) taking the three queues as
priorities.

1. no-op jobs: how fast N jobs are enqueued, then run by the worker (queue overhead only);
2. N new files to COMPLETE: one `handle_file_created` each, as the watcher enqueues them,
   until every track is analysed (the chained slow jobs included);
3. wait of high-priority jobs (enqueue to start, p50/p95) while a low-priority backlog
   of short jobs is being worked through.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import redis
from arq import ArqRedis
from arq.worker import Worker as ArqWorker
from arq.worker import func

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.application.job_catalogue import QUEUES_BY_PRIORITY, QueueName
from mus.application.job_queue import JobQueue
from mus.core.config import Settings, get_settings
from mus.core.streaq_broker import MusWorker, StreaqJobQueue, create_worker
from mus.demo.audio_generator import generate_library
from mus.domain.track import ProcessingStatus

from harness.arq_wiring import FUNCTIONS, ArqJobQueue, arq_queue_key, open_arq_pool, worker_settings
from harness.queue_backends import backend_by_name

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CONTRACT_ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.05


async def noop(**_kwargs: Any) -> None:
    """The cheapest job there is: what is left is the queue's own cost."""


async def pause(milliseconds: int) -> None:
    """A short job of known length, for the backlog and the probes."""
    await asyncio.sleep(milliseconds / 1000)


async def arq_noop(ctx: dict[Any, Any], *_args: Any, **kwargs: Any) -> None:
    await noop(**kwargs)


async def arq_pause(ctx: dict[Any, Any], *_args: Any, **kwargs: Any) -> None:
    await pause(**kwargs)


@dataclass
class Figures:
    """One backend's measurements; None where a measure was not run."""

    enqueue_rate: float | None = None
    run_rate: float | None = None
    files_seconds: float | None = None
    files_listed_seconds: float | None = None
    files_done: str = ""
    waits_ms: list[float] = field(default_factory=list)
    recovery_seconds: float | None = None


class ArqBench:
    """arq as mus ran it: JSON jobs, one Worker per queue, max_jobs 10, poll delay 0.1 s."""

    name = "arq"

    def __init__(self) -> None:
        self._pool: ArqRedis | None = None

    def version(self) -> str:
        return package_version("arq")

    def _workers(self, queues: list[QueueName], **overrides: Any) -> list[ArqWorker]:
        functions = [*FUNCTIONS, func(arq_noop, name="noop"), func(arq_pause, name="pause")]
        return [
            ArqWorker(
                **worker_settings(queue, functions=functions, handle_signals=False, **overrides)
            )
            for queue in queues
        ]

    @asynccontextmanager
    async def running(self, settings: Settings) -> AsyncIterator[None]:
        workers = self._workers(list(QUEUES_BY_PRIORITY))
        tasks = [asyncio.create_task(worker.main()) for worker in workers]
        try:
            yield
        finally:
            for worker in workers:
                await worker.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @asynccontextmanager
    async def port(self, settings: Settings) -> AsyncIterator[JobQueue]:
        pool = open_arq_pool(settings)
        try:
            yield ArqJobQueue(pool)
        finally:
            await pool.aclose()

    async def enqueue_bench(self, settings: Settings, queue: str, task: str, **kw: Any) -> str:
        if self._pool is None:
            self._pool = open_arq_pool(settings)
        job = await self._pool.enqueue_job(task, _queue_name=arq_queue_key(queue), **kw)
        if job is None:
            raise RuntimeError(f"arq refused {task}")
        return job.job_id

    async def noop_throughput(self, settings: Settings, jobs: int) -> tuple[float, float]:
        pool = open_arq_pool(settings)
        try:
            started = time.perf_counter()
            for number in range(jobs):
                await pool.enqueue_job(
                    "noop", number=number, _queue_name=arq_queue_key(QueueName.HIGH.value)
                )
            enqueued = time.perf_counter() - started
        finally:
            await pool.aclose()
        (worker,) = self._workers([QueueName.HIGH], burst=True)
        started = time.perf_counter()
        try:
            await worker.main()
        finally:
            await worker.close()
        ran = time.perf_counter() - started
        if worker.jobs_complete != jobs:
            raise RuntimeError(f"arq ran {worker.jobs_complete} of {jobs} no-op jobs")
        return jobs / enqueued, jobs / ran

    async def waits_ms(self, settings: Settings, ids: list[str]) -> list[float]:
        if self._pool is None:
            raise RuntimeError("no arq job was enqueued")
        results = {result.job_id: result for result in await self._pool.all_job_results()}
        return [_ms(results[i].start_time) - _ms(results[i].enqueue_time) for i in ids]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def _ms(moment: datetime) -> float:
    return moment.timestamp() * 1000


class StreaqBench:
    """streaq as mus runs it: `mus.core.streaq_broker`'s Worker (MUS_WORKER_CONCURRENCY)."""

    name = "streaq"

    def __init__(self) -> None:
        self._client: MusWorker | None = None

    def version(self) -> str:
        return package_version("streaq")

    def _worker(self, settings: Settings) -> MusWorker:
        worker = create_worker(settings)
        worker.task(name="noop")(noop)
        worker.task(name="pause")(pause)
        return worker

    @asynccontextmanager
    async def running(self, settings: Settings) -> AsyncIterator[None]:
        worker = self._worker(settings)
        task = asyncio.create_task(worker.run_async())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @asynccontextmanager
    async def port(self, settings: Settings) -> AsyncIterator[JobQueue]:
        async with self._worker(settings) as client:
            yield StreaqJobQueue(client)

    async def _connected(self, settings: Settings) -> MusWorker:
        if self._client is None:
            self._client = self._worker(settings)
            await self._client.__aenter__()
        return self._client

    async def enqueue_bench(self, settings: Settings, queue: str, task: str, **kw: Any) -> str:
        client = await self._connected(settings)
        return str((await client.enqueue_unsafe(task, **kw).start(priority=queue)).id)

    async def noop_throughput(self, settings: Settings, jobs: int) -> tuple[float, float]:
        async with self._worker(settings) as client:
            started = time.perf_counter()
            for number in range(jobs):
                await client.enqueue_unsafe("noop", number=number).start(
                    priority=QueueName.HIGH.value
                )
            enqueued = time.perf_counter() - started
        worker = self._worker(settings)
        worker.burst = True
        started = time.perf_counter()
        await worker.run_async()
        ran = time.perf_counter() - started
        if worker.counters["completed"] != jobs:
            raise RuntimeError(f"streaq ran {worker.counters['completed']} of {jobs} no-op jobs")
        return jobs / enqueued, jobs / ran

    async def waits_ms(self, settings: Settings, ids: list[str]) -> list[float]:
        client = await self._connected(settings)
        waits = []
        for task_id in ids:
            result = await client.result_by_id(task_id, timeout=60)
            waits.append(float(result.start_time - result.enqueue_time))
        return waits

    async def close(self) -> None:
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None


@contextlib.contextmanager
def fresh_settings(redis_url: str) -> Iterator[Settings]:
    """A new data folder and an empty Redis database; the environment the workers read."""
    with tempfile.TemporaryDirectory(prefix="mus-queue-bench-") as tmp:
        names = ("DATA_DIR_PATH", "REDIS_URL", "MUSIC_DIR_PATH", "DRAGONFLY_URL", "LOG_LEVEL")
        saved = {name: os.environ.get(name) for name in names}
        os.environ.pop("MUSIC_DIR_PATH", None)
        os.environ.pop("DRAGONFLY_URL", None)
        os.environ.update(
            DATA_DIR_PATH=str(Path(tmp) / "data"), REDIS_URL=redis_url, LOG_LEVEL="WARNING"
        )
        get_settings.cache_clear()
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        try:
            settings = get_settings()
            settings.ensure_directories()
            yield settings
        finally:
            client.flushdb()
            client.close()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()


async def until(check: Callable[[], Awaitable[bool]], timeout_seconds: float, what: str) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout_seconds:.0f}s")
        await asyncio.sleep(POLL_SECONDS)


Bench = ArqBench | StreaqBench


@dataclass(frozen=True, slots=True)
class FilesRun:
    listed_seconds: float  # every file is a track (PENDING or later): what a user sees first
    complete_seconds: float  # every track analysed
    outcome: str


async def files_to_complete(backend: Bench, redis_url: str, files: int) -> FilesRun:
    with fresh_settings(redis_url) as settings:
        paths = generate_library(settings.music_dir_path, files, seed=2026)
        database = Database(settings.database_url)
        await database.create_tables()

        async def analysed() -> int:
            async with database.session() as session:
                repository = TrackRepository(session)
                complete = await repository.count(status=ProcessingStatus.COMPLETE)
                error = await repository.count(status=ProcessingStatus.ERROR)
            return complete + error

        listed_at: list[float] = []

        async def all_analysed() -> bool:
            if not listed_at:
                async with database.session() as session:
                    if await TrackRepository(session).count() == files:
                        listed_at.append(time.perf_counter())
            return await analysed() == files

        try:
            async with backend.running(settings):
                started = time.perf_counter()
                async with backend.port(settings) as port:
                    for path in paths:
                        relative = path.relative_to(settings.music_dir_path).as_posix()
                        await port.enqueue("handle_file_created", file_path=relative)
                await until(all_analysed, 1800, f"{backend.name}: {files} files to COMPLETE")
                seconds = time.perf_counter() - started
            async with database.session() as session:
                complete = await TrackRepository(session).count(status=ProcessingStatus.COMPLETE)
        finally:
            await database.dispose()
    return FilesRun(listed_at[0] - started, seconds, f"{complete} ok, {files - complete} err")


async def recovery_after_kill(name: str, redis_url: str, files: int) -> float:
    """Seconds from a SIGKILL of the backend's real worker process, mid-run, until every file
    is COMPLETE with a new worker process started at once: the redelivery of what it held.

    arq as deployed holds a killed worker's job for its job timeout plus 10 s (310 s);
    streaq for `MUS_WORKER_REDELIVERY_SECONDS`.
    """
    backend = backend_by_name(name)
    with fresh_settings(redis_url) as settings:
        paths = generate_library(settings.music_dir_path, files, seed=2027)
        database = Database(settings.database_url)
        await database.create_tables()

        async def tracks(status: ProcessingStatus | None = None) -> int:
            async with database.session() as session:
                return await TrackRepository(session).count(status=status)

        async def complete() -> bool:
            return await tracks(ProcessingStatus.COMPLETE) == files

        port = await backend.start(settings)
        first = await _worker_process(backend.worker_process())
        second: asyncio.subprocess.Process | None = None
        try:
            for path in paths:
                relative = path.relative_to(settings.music_dir_path).as_posix()
                await port.enqueue("handle_file_created", file_path=relative)

            async def some_indexed() -> bool:
                return await tracks() >= max(1, files // 5)

            await until(some_indexed, 120, f"{name}: the first worker indexing")
            os.killpg(first.pid, signal.SIGKILL)
            killed = time.perf_counter()
            second = await _worker_process(backend.worker_process())
            await until(complete, 900, f"{name}: every file COMPLETE after the kill")
            return time.perf_counter() - killed
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    await process.wait()
            await backend.stop()
            await database.dispose()


async def _worker_process(argv: list[str]) -> asyncio.subprocess.Process:
    """A worker as deployed, in a session of its own, reading the environment's settings."""
    return await asyncio.create_subprocess_exec(
        *argv,
        cwd=CONTRACT_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


async def high_priority_waits(
    backend: Bench, redis_url: str, backlog: int, probes: int, job_ms: int
) -> list[float]:
    with fresh_settings(redis_url) as settings:
        try:
            for _ in range(backlog):
                await backend.enqueue_bench(settings, "low_priority", "pause", milliseconds=job_ms)
            ids: list[str] = []
            async with backend.running(settings):
                await asyncio.sleep(0.5)  # the backlog is being worked through
                for _ in range(probes):
                    ids.append(
                        await backend.enqueue_bench(
                            settings, "high_priority", "pause", milliseconds=0
                        )
                    )
                    await asyncio.sleep(0.05)
                waits = await _waits_when_done(backend, settings, ids)
        finally:
            await backend.close()
    return waits


async def _waits_when_done(backend: Bench, settings: Settings, ids: list[str]) -> list[float]:
    deadline = time.monotonic() + 120
    while True:
        try:
            return await backend.waits_ms(settings, ids)
        except (KeyError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(fraction * 100) - 1]


def redis_version(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
    finally:
        client.close()
    return str(info.get("valkey_version") or info.get("redis_version"))


def table(rows: list[tuple[str, str, str]], header: tuple[str, str, str]) -> str:
    width = max(len(row[0]) for row in [header, *rows])
    lines = [f"{header[0]:<{width}}  {header[1]:>14}  {header[2]:>14}"]
    lines += [f"{name:<{width}}  {a:>14}  {b:>14}" for name, a, b in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


async def run(args: argparse.Namespace) -> None:
    backends: list[Bench] = [ArqBench(), StreaqBench()]
    figures = {backend.name: Figures() for backend in backends}
    for backend in backends:
        found = figures[backend.name]
        if "noop" in args.measures:
            with fresh_settings(args.redis_url) as settings:
                found.enqueue_rate, found.run_rate = await backend.noop_throughput(
                    settings, args.noop_jobs
                )
        if "files" in args.measures:
            run_ = await files_to_complete(backend, args.redis_url, args.files)
            found.files_listed_seconds = run_.listed_seconds
            found.files_seconds = run_.complete_seconds
            found.files_done = run_.outcome
        if "wait" in args.measures:
            found.waits_ms = await high_priority_waits(
                backend, args.redis_url, args.backlog, args.probes, args.backlog_job_ms
            )
        if "recovery" in args.measures:
            found.recovery_seconds = await recovery_after_kill(
                backend.name, args.redis_url, args.recovery_files
            )
    arq, streaq = figures["arq"], figures["streaq"]
    print(
        f"mus queue benchmark: arq {ArqBench().version()} (baseline) vs streaq "
        f"{StreaqBench().version()}, broker Redis {redis_version(args.redis_url)} "
        f"at {args.redis_url}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python "
        f"{platform.python_version()}; arq: one worker per queue (3 x max_jobs 10), "
        f"streaq: one worker, 3 priorities, concurrency {get_settings().worker_concurrency}"
    )
    rows: list[tuple[str, str, str]] = []
    if "noop" in args.measures:
        rows += [
            (
                f"no-op jobs enqueued per second ({args.noop_jobs:,})",
                fmt(arq.enqueue_rate),
                fmt(streaq.enqueue_rate),
            ),
            (
                f"no-op jobs run per second ({args.noop_jobs:,})",
                fmt(arq.run_rate),
                fmt(streaq.run_rate),
            ),
        ]
    if "files" in args.measures:
        rows += [
            (
                f"{args.files:,} new files all listed (PENDING), seconds",
                fmt(arq.files_listed_seconds),
                fmt(streaq.files_listed_seconds),
            ),
            (
                f"{args.files:,} new files to COMPLETE, seconds",
                fmt(arq.files_seconds),
                fmt(streaq.files_seconds),
            ),
            (
                "  files per second",
                fmt(_rate(args.files, arq.files_seconds)),
                fmt(_rate(args.files, streaq.files_seconds)),
            ),
            ("  outcome", arq.files_done, streaq.files_done),
        ]
    if "wait" in args.measures:
        label = f"high-priority wait, {args.backlog:,} low queued ({args.backlog_job_ms} ms jobs)"
        rows += [
            (f"{label}: p50 ms", fmt(_p(arq.waits_ms, 0.5)), fmt(_p(streaq.waits_ms, 0.5))),
            (
                f"{' ' * len(label)}  p95 ms",
                fmt(_p(arq.waits_ms, 0.95)),
                fmt(_p(streaq.waits_ms, 0.95)),
            ),
        ]
    if "recovery" in args.measures:
        rows.append(
            (
                f"recovery: worker SIGKILLed mid-run, {args.recovery_files} files to COMPLETE, s",
                fmt(arq.recovery_seconds),
                fmt(streaq.recovery_seconds),
            )
        )
    print()
    print(table(rows, ("figure", "arq", "streaq")))


def _rate(count: int, seconds: float | None) -> float | None:
    return None if not seconds else count / seconds


def _p(values: list[float], fraction: float) -> float | None:
    return percentile(values, fraction) if len(values) >= 2 else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("MUS_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    )
    parser.add_argument("--noop-jobs", type=int, default=2000)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--backlog-job-ms", type=int, default=20)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--recovery-files", type=int, default=40)
    parser.add_argument(
        "--measures",
        nargs="+",
        choices=("noop", "files", "wait", "recovery"),
        default=["noop", "files", "wait", "recovery"],
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
