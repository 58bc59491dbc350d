"""The measurements, each on a fresh world with the backend's real processes.

Times of jobs (enqueue, start, finish) come from each backend's own result store; the
bench process only enqueues through the port the api holds, and reads.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from benchmarks.api_process import api_process
from benchmarks.bench_world import CONTRACT_ROOT, World, fresh_world, until
from benchmarks.deployments import Deployment, JobTimes
from benchmarks.worker_processes import Memory, ProcessSet, process_set
from mus.application.job_queue import JobRequest
from mus.demo.audio_generator import generate_library
from mus.domain.track import ProcessingStatus

READY_SECONDS = 60.0
JOBS_SECONDS = 600.0
FILES_SECONDS = 1800.0
LARGE_FILES_SECONDS = FILES_SECONDS * 4
"""The bound of a `--large` row (10,000 files): arq alone takes minutes; a hang still ends."""


@asynccontextmanager
async def workers(
    deployment: Deployment, world: World, *, bench_jobs: bool, name: str = "worker"
) -> AsyncIterator[ProcessSet]:
    """The backend's worker processes, once each of them polls its queue(s)."""
    argvs = deployment.worker_argvs(bench_jobs=bench_jobs)
    async with process_set(
        f"{deployment.name}-{name}", argvs, env=world.env, cwd=CONTRACT_ROOT, log_dir=world.log_dir
    ) as processes:

        async def ready() -> bool:
            return await deployment.workers_ready(world.broker, len(argvs))

        await until(ready, READY_SECONDS, f"{deployment.name}: workers ready", [processes])
        yield processes


async def finished_times(
    deployment: Deployment,
    world: World,
    ids: Sequence[str],
    watched: Sequence[ProcessSet],
    timeout_seconds: float = JOBS_SECONDS,
) -> list[JobTimes]:
    """Wait until every job has a result, then their times."""
    found: list[JobTimes] = []

    async def all_done() -> bool:
        found[:] = await deployment.times(world.broker, ids)
        return len(found) == len(ids)

    await until(all_done, timeout_seconds, f"{deployment.name}: {len(ids)} jobs", watched, 0.2)
    return found


@dataclass(frozen=True, slots=True)
class NoopFigures:
    enqueued_per_second: float
    run_per_second: float


async def noop_one_by_one(deployment: Deployment, redis_url: str, jobs: int) -> NoopFigures:
    """Enqueue `jobs` no-ops one call each through the port, then start the workers.

    Run rate: jobs / (last finish - first start), both from the result store, so the
    processes' start-up is not counted and the queue's drain is.
    """
    async with fresh_world(redis_url) as world:
        async with deployment.open_port(world.settings) as port:
            started = time.perf_counter()
            ids = [await port.enqueue("noop", number=number) for number in range(jobs)]
            enqueued = time.perf_counter() - started
        async with workers(deployment, world, bench_jobs=True) as processes:
            times = await finished_times(deployment, world, ids, [processes])
    first = min(t.started_ms for t in times)
    last = max(t.finished_ms for t in times)
    return NoopFigures(jobs / enqueued, jobs / max((last - first) / 1000, 1e-3))


async def noop_batches(deployment: Deployment, redis_url: str, jobs: int, batch: int) -> float:
    """Enqueued per second through the port's `enqueue_many`, `batch` jobs per call (one
    pipeline round trip per call on streaq; arq has no batch, its adapter loops)."""
    requests = [JobRequest("noop", {"number": number}) for number in range(jobs)]
    ids: list[str] = []
    async with fresh_world(redis_url) as world, deployment.open_port(world.settings) as port:
        started = time.perf_counter()
        for first in range(0, jobs, batch):
            ids += await port.enqueue_many(requests[first : first + batch])
        seconds = time.perf_counter() - started
    if len(set(ids)) != jobs:
        raise RuntimeError(f"{deployment.name}: enqueue_many gave {len(set(ids))} ids for {jobs}")
    return jobs / seconds


@dataclass(frozen=True, slots=True)
class FilesFigures:
    listed_seconds: float  # every file is a track (PENDING or later): what a user sees first
    complete_seconds: float  # every track analysed (COMPLETE or ERROR)
    outcome: str


async def files_to_complete(
    deployment: Deployment, redis_url: str, files: int, timeout_seconds: float = FILES_SECONDS
) -> FilesFigures:
    """One `handle_file_created` per new file through the port, as the watcher enqueues
    them, on mus's own workers as deployed; clock from the first enqueue (workers ready)."""
    async with fresh_world(redis_url) as world:
        paths = generate_library(world.settings.music_dir_path, files, seed=2026)
        listed_at: list[float] = []

        async def all_analysed() -> bool:
            if not listed_at and await world.tracks() == files:
                listed_at.append(time.perf_counter())
            return await world.analysed() == files

        async with (
            workers(deployment, world, bench_jobs=False) as processes,
            deployment.open_port(world.settings) as port,
        ):
            started = time.perf_counter()
            for path in paths:
                relative = path.relative_to(world.settings.music_dir_path).as_posix()
                await port.enqueue("handle_file_created", file_path=relative)
            what = f"{deployment.name}: {files} files to COMPLETE"
            await until(all_analysed, timeout_seconds, what, [processes])
            seconds = time.perf_counter() - started
        complete = await world.tracks(ProcessingStatus.COMPLETE)
    return FilesFigures(listed_at[0] - started, seconds, f"{complete} ok, {files - complete} err")


async def high_priority_waits(
    deployment: Deployment, redis_url: str, backlog: int, probes: int, job_ms: int
) -> list[float]:
    """Enqueue-to-start of high-priority probes (0 ms jobs, one each 50 ms) while a
    backlog of `job_ms` low-priority jobs, enqueued before the workers started, is worked."""
    async with fresh_world(redis_url) as world, deployment.open_port(world.settings) as port:
        for _ in range(backlog):
            await port.enqueue("pause", milliseconds=job_ms)
        async with workers(deployment, world, bench_jobs=True) as processes:
            await asyncio.sleep(0.5)  # the backlog is being worked through
            ids = []
            for _ in range(probes):
                ids.append(await port.enqueue("probe", milliseconds=0))
                await asyncio.sleep(0.05)
            times = await finished_times(deployment, world, ids, [processes])
    return [t.started_ms - t.enqueued_ms for t in times]


async def idle_pickup(
    deployment: Deployment, redis_url: str, samples: int, seed: int = 13
) -> list[float]:
    """Enqueue-to-start of one no-op on idle workers, `samples` times: each is enqueued
    20-220 ms (random, seeded) after the previous one finished, off any poll's rhythm."""
    spacing = random.Random(seed)
    latencies: list[float] = []
    async with (
        fresh_world(redis_url) as world,
        workers(deployment, world, bench_jobs=True) as processes,
        deployment.open_port(world.settings) as port,
    ):
        await asyncio.sleep(1.0)  # start-up work of the workers is over
        for sample in range(samples):
            job_id = await port.enqueue("noop", sample=sample)
            (times,) = await _one_result(deployment, world, job_id, processes)
            latencies.append(times.started_ms - times.enqueued_ms)
            await asyncio.sleep(spacing.uniform(0.02, 0.22))
    return latencies


async def _one_result(
    deployment: Deployment, world: World, job_id: str, processes: ProcessSet
) -> list[JobTimes]:
    key = deployment.result_key(job_id)

    async def stored() -> bool:
        return bool(await world.broker.exists(key))

    await until(stored, 30, f"{deployment.name}: job {job_id}", [processes], 0.005)
    return await deployment.times(world.broker, [job_id])


async def recovery_after_kill(deployment: Deployment, redis_url: str, files: int) -> float:
    """Seconds from a SIGKILL of every worker process of the backend, mid-run (a fifth of
    the files analysed, and jobs running by the backend's own bookkeeping), until every file
    is COMPLETE, a new set having been started at once.

    arq as deployed holds a killed worker's job for its job timeout + 10 s (310 s);
    streaq for `MUS_WORKER_REDELIVERY_SECONDS`. The kill came at a fifth of the files
    *indexed*, with no look at what ran, until indexing got fast (issue 23): arq's analysis
    worker, polling every 0.5 s, then often had nothing in hand when it was killed, and the
    row read 2.2-2.6 s or 310 s by the luck of that poll.
    """
    async with fresh_world(redis_url) as world:
        paths = generate_library(world.settings.music_dir_path, files, seed=2027)

        async def complete() -> bool:
            return await world.tracks(ProcessingStatus.COMPLETE) == files

        async def mid_run() -> bool:
            return (
                await world.analysed() >= max(1, files // 5)
                and await deployment.running(world.broker) > 0
            )

        async with workers(deployment, world, bench_jobs=False, name="first") as first:
            async with deployment.open_port(world.settings) as port:
                for path in paths:
                    relative = path.relative_to(world.settings.music_dir_path).as_posix()
                    await port.enqueue("handle_file_created", file_path=relative)
            await until(mid_run, 120, f"{deployment.name}: first workers mid-run", [first], 0.005)
            first.kill()
            killed = time.perf_counter()
        async with workers(deployment, world, bench_jobs=False, name="second") as second:
            await until(complete, 900, f"{deployment.name}: all COMPLETE after the kill", [second])
            return time.perf_counter() - killed


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    workers_first: Memory
    api_first: Memory
    workers_second: Memory
    api_second: Memory
    seconds_first: float
    seconds_second: float


async def memory_after_files(deployment: Deployment, redis_url: str, files: int) -> MemoryFigures:
    """RSS of the workers and of the real api (`uvicorn`, start-up scan and file watcher
    on) once `files` files are analysed, then once a second `files` have been moved into
    the watched folder (one rename each) and analysed too."""
    async with fresh_world(redis_url) as world:
        music = world.settings.music_dir_path
        generate_library(music / "first", files, seed=2028)
        staged = generate_library(world.settings.data_dir_path / "staged", files, seed=2029)
        started = time.perf_counter()
        async with (
            workers(deployment, world, bench_jobs=False) as worker_set,
            api_process(deployment, world) as api_running,
        ):
            api = api_running.processes

            async def analysed(count: int) -> bool:
                return await world.tracks() == count and await world.analysed() == count

            what = f"{deployment.name}: {files} files analysed"
            await until(lambda: analysed(files), FILES_SECONDS * 4, what, [worker_set, api], 0.5)
            seconds_first = time.perf_counter() - started
            workers_first, api_first = worker_set.memory(), api.memory()
            started = time.perf_counter()
            target = music / "second"
            for path in staged:
                relative = path.relative_to(world.settings.data_dir_path / "staged")
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                path.rename(target / relative)
            what = f"{deployment.name}: {2 * files} files analysed"
            await until(
                lambda: analysed(2 * files), FILES_SECONDS * 4, what, [worker_set, api], 0.5
            )
            seconds_second = time.perf_counter() - started
            workers_second, api_second = worker_set.memory(), api.memory()
    return MemoryFigures(
        workers_first, api_first, workers_second, api_second, seconds_first, seconds_second
    )
