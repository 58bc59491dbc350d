"""A scenario's world: a temp library, the real app, the real watcher mapping, one backend."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.outbox_repository import OutboxRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.duration_probe import FFPROBE_PATH_ENV
from mus.application.file_operation_reconciler import reconcile_file_operations
from mus.application.initial_scan import run_initial_scan
from mus.application.job_outbox import OutboxRelay
from mus.application.job_queue import JobQueue
from mus.application.pending_reconciler import reconcile_pending
from mus.core.config import Settings, get_settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.watcher.change_mapper import ChangeKind
from mus.watcher.library_watcher import LibraryWatcher

from harness.private_broker import PrivateBroker
from harness.queue_backend import QueueBackend
from harness.recorder import RunLog, at_least_once, record

CONTRACT_ROOT = Path(__file__).resolve().parents[1]
# Only bounds a broken run: the marker follows the events a drained job published.
EVENTS_ARRIVE_WITHIN_SECONDS = 60.0


class World:
    """What a scenario acts on; every action goes through the app's own code paths."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        backend: QueueBackend,
        job_queue: JobQueue,
        redis: aioredis.Redis,
        stack: AsyncExitStack,
        broker: PrivateBroker | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.backend = backend
        self.job_queue = job_queue
        self.redis = redis
        self.broker = broker
        self.redelivered = False
        self._worker_process: asyncio.subprocess.Process | None = None
        self.one_at_a_time = False
        self.events: list[dict[str, Any]] = []
        self._discarded = 0
        self._stack = stack
        self._api: httpx.AsyncClient | None = None
        self.watcher = LibraryWatcher(
            settings.music_dir_path, job_queue, WriteLock(redis), database
        )

    @property
    def music(self) -> Path:
        return self.settings.music_dir_path

    # --- arranging the library --------------------------------------------------------
    def write(self, spec: AudioSpec) -> Path:
        """Put a generated file in the music folder (no event: the scenario says which)."""
        return write_audio(spec, self.music)

    def write_all(self, specs: Iterable[AudioSpec]) -> list[Path]:
        return [self.write(spec) for spec in specs]

    def discard(self, relative_path: str) -> None:
        """The file leaves the library for a trash outside it, as a desktop deletes.

        Not an unlink: a freed inode number goes to the next new file (ext4 gives it again
        within a few files), which the watcher then sees as a move of the deleted file, and
        the recording would follow the file system's allocation rather than the backend.
        """
        self._discarded += 1
        trash = self.settings.data_dir_path / f"trash-{self._discarded}"
        (self.music / relative_path).rename(trash)

    # --- acting as the OS: file events through the watcher's own mapping ------------------
    async def os_events(self, changes: Iterable[tuple[str, str]]) -> int:
        """Feed (kind, relative path) changes as one watcher batch; returns jobs enqueued."""
        batch = [(ChangeKind(kind), str(self.music / path)) for kind, path in changes]
        return await self.watcher.handle_changes(batch)  # type: ignore[arg-type]

    async def let_write_locks_expire(self) -> None:
        """Time passes: the short write locks of mus's own writes have run out.

        Events fed right after a drain are, as in production, within the grace period
        of those writes; a scenario about a later, independent event says so with this.
        """
        keys = [key async for key in self.redis.scan_iter(match="mus:write-lock:*")]
        if keys:
            await self.redis.delete(*keys)

    # --- acting as a user: HTTP through the ASGI app -------------------------------------------
    async def api(self) -> httpx.AsyncClient:
        if self._api is None:
            from mus.main import create_app

            @asynccontextmanager
            async def this_worlds_queue(_settings: Settings) -> AsyncIterator[JobQueue]:
                yield self.job_queue

            app = create_app(self.settings, job_queue_opener=this_worlds_queue)
            await self._stack.enter_async_context(app.router.lifespan_context(app))
            self._api = await self._stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://mus.test/api/v1"
                )
            )
        return self._api

    async def track_id(self, relative_path: str) -> int:
        async with self.database.session() as session:
            track = await TrackRepository(session).get_by_path(relative_path)
        assert track is not None, f"no track at {relative_path}"
        return track.id

    # --- start-up work ----------------------------------------------------------------
    async def initial_scan(self) -> None:
        await run_initial_scan(self.database, self.settings, self.job_queue)

    # --- faults and recovery ------------------------------------------------------------
    def ffprobe_crashes(self) -> None:
        """From now on ffprobe dies of SIGSEGV on every file (a broken ffmpeg install), as
        the worker finds it through `FFPROBE_PATH`; the world puts the real one back."""
        crashing = self.settings.data_dir_path / "crashing-ffprobe"
        crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
        crashing.chmod(0o755)
        previous = os.environ.get(FFPROBE_PATH_ENV)
        os.environ[FFPROBE_PATH_ENV] = str(crashing)

        def restore() -> None:
            if previous is None:
                os.environ.pop(FFPROBE_PATH_ENV, None)
            else:
                os.environ[FFPROBE_PATH_ENV] = previous

        self._stack.callback(restore)

    async def broker_loses_its_data(self) -> None:
        """The broker comes back empty (a Redis without persistence restarted): every queued
        job, result and lock is gone; the database is not."""
        await self.redis.flushdb()

    async def broker_stops(self) -> None:
        """The broker goes away (a clean stop: its AOF keeps what it held).

        The events published so far are collected first; the world listens again once the
        broker is back (no job runs in between, so none is missed).
        """
        await self._collect_events()
        await self._pubsub.aclose()
        self._own_broker().stop()

    async def broker_starts(self) -> None:
        """The broker is back, with what its AOF kept."""
        self._own_broker().start()
        await self.listen()

    async def broker_refuses_writes(self) -> None:
        """The broker runs out of memory (`noeviction`): it still answers, and refuses every
        write with "OOM command not allowed" until memory is raised again."""
        await self._collect_events()
        self._own_broker().refuse_writes()

    async def broker_accepts_writes(self) -> None:
        """Memory raised again: the broker takes writes, with everything it held."""
        self._own_broker().accept_writes()

    async def worker_runs_for(self, seconds: float) -> None:
        """The backend's real worker runs as a process for `seconds`, then is SIGKILLed.

        For a broker in trouble meanwhile: whatever the worker did or took is redelivered to
        the next drain, so the recording keeps what at-least-once delivery fixes. The process
        may also have ended by itself (a backend that gives up on the broker).
        """
        self.redelivered = True
        process = await asyncio.create_subprocess_exec(
            *self.backend.worker_process(),
            cwd=CONTRACT_ROOT,
            env={**os.environ, "MUS_CONTRACT_ARQ_JOB_TIMEOUT": "5"},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            await asyncio.sleep(seconds)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 10)

    def _own_broker(self) -> PrivateBroker:
        if self.broker is None:
            raise RuntimeError("register the scenario with @scenarios.add_on_own_broker")
        return self.broker

    async def relay_kept_jobs(self, within_seconds: float = 30.0) -> None:
        """The api's relay loop, round by round, until every kept job is with the broker."""
        relay = OutboxRelay(self.database, self.job_queue)
        deadline = asyncio.get_running_loop().time() + within_seconds
        while True:
            await relay.flush()
            if not await self._kept_jobs():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"kept jobs not relayed within {within_seconds:g}s")
            await asyncio.sleep(0.2)

    async def worker_killed_mid_run(self, after_tracks: int, within_seconds: float = 30) -> None:
        """The backend's real worker runs as a process until `after_tracks` rows exist, then
        is SIGKILLed: what it held is redelivered to the next drain. Jobs may then run twice,
        so the recording keeps only what at-least-once delivery fixes (see `record`)."""
        self.redelivered = True
        argv = self.backend.worker_process()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=CONTRACT_ROOT,
            env={**os.environ, "MUS_CONTRACT_ARQ_JOB_TIMEOUT": "5"},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + within_seconds
            while await self._track_count() < after_tracks:
                if process.returncode is not None or loop.time() > deadline:
                    raise RuntimeError(f"the worker process did not index {after_tracks} tracks")
                await asyncio.sleep(0.02)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 10)

    @asynccontextmanager
    async def worker_running(self, **env: str) -> AsyncIterator[None]:
        """The backend's real worker as a process of its own for the block (with `env` added
        to the world's environment), stopped with SIGTERM after it (SIGKILL if it hangs).

        The jobs it runs are not seen consumed by the in-process hooks (streaq names their
        queue "not observed"), so the recording keeps what at-least-once delivery fixes: the
        final rows, files, covers and errors, and which job ran, at least once, for which track.
        """
        self.redelivered = True
        process = await asyncio.create_subprocess_exec(
            *self.backend.worker_process(),
            cwd=CONTRACT_ROOT,
            env={**os.environ, "MUS_CONTRACT_ARQ_JOB_TIMEOUT": "5", **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self._worker_process = process
        try:
            yield
            if process.returncode is not None:
                raise RuntimeError(f"the worker process ended early ({process.returncode})")
        finally:
            self._worker_process = None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await asyncio.wait_for(process.wait(), 10)
            await self._collect_events()

    @asynccontextmanager
    async def worker_paused(self) -> AsyncIterator[None]:
        """The worker process of `worker_running` stopped (SIGSTOP) for the block and continued
        after it: what is queued meanwhile waits in the broker, as behind a busy worker, so a
        scenario can set the scene (a database held) before the jobs run."""
        process = self._worker_process
        if process is None or process.returncode is not None:
            raise RuntimeError("worker_paused needs a worker process running (worker_running)")
        os.killpg(process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)

    @asynccontextmanager
    async def database_held(self) -> AsyncIterator[None]:
        """Another process holds the database for the block: a second SQLite connection in
        BEGIN EXCLUSIVE, on a thread (the loop goes on: a transaction of ours left mid-way
        would otherwise hold the very lock this waits for)."""
        holder = _DatabaseHolder(self.database.file_path)
        await asyncio.to_thread(holder.start)
        try:
            yield
        finally:
            await asyncio.to_thread(holder.release)

    @staticmethod
    async def until(
        condition: Callable[[], Awaitable[bool]], what: str, within_seconds: float = 60
    ) -> None:
        """Wait for what a worker process does to show in the database or on disk."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        while not await condition():
            if loop.time() > deadline:
                raise RuntimeError(f"not within {within_seconds:g}s: {what}")
            await asyncio.sleep(0.05)

    async def track_status(self, relative_path: str) -> str | None:
        """The processing status of the track at a path, None when there is no such row."""
        async with self.database.session() as session:
            track = await TrackRepository(session).get_by_path(relative_path)
        return None if track is None else track.processing_status.value

    async def _track_count(self) -> int:
        async with self.database.session() as session:
            return await TrackRepository(session).count()

    async def reconcile(self) -> int:
        """One round of the api's reconciler (its loop is off in the world, for determinism)."""
        relay = OutboxRelay(self.database, self.job_queue)
        return await reconcile_pending(self.database, relay, quiet_seconds=0)

    async def settle_file_operations(self) -> int:
        """One round of the api's file-operation reconciler on every open intent."""
        relay = OutboxRelay(self.database, self.job_queue)
        return await reconcile_file_operations(self.database, relay, self.music, quiet_seconds=0)

    # --- running and recording ---------------------------------------------------------
    def run_one_job_at_a_time(self) -> None:
        """From now on one worker runs one job at a time, so the order in which it starts
        them (highest priority first) is deterministic and becomes part of the recording."""
        self.one_at_a_time = True

    async def drain(self, *queues: str) -> None:
        """Run the backend's worker on the named queues (all when none are named).

        Jobs a killed worker had kept in the outbox but not sent are relayed once their
        claim lapses (as the api's relay loop would), and drained too.
        """
        concurrency = 1 if self.one_at_a_time else None
        await self.backend.drain(queues or None, concurrency=concurrency)
        while await self._kept_jobs():
            await self.relay_kept_jobs()
            await self.backend.drain(queues or None, concurrency=concurrency)
        await self._collect_events()

    async def _kept_jobs(self) -> int:
        async with self.database.session() as session:
            return await OutboxRepository(session).count()

    async def listen(self) -> None:
        """Subscribe to the app's event channel: what the api relays to SSE clients."""
        self._pubsub = self.redis.pubsub()
        await self._pubsub.subscribe(self.settings.event_channel)
        async with asyncio.timeout(EVENTS_ARRIVE_WITHIN_SECONDS):  # subscribed, then on
            while (message := await self._pubsub.get_message(timeout=1.0)) is None or (
                message["type"] != "subscribe"
            ):
                pass

    async def _collect_events(self) -> None:
        """Every event published so far: the world publishes a marker of its own and reads
        up to it. Redis delivers a channel's messages in order, so everything a finished job
        published is in by then; a read that stops at a quiet moment would depend on how
        busy the machine is (the marker is waited for, not time)."""
        pubsub = self._pubsub
        marker = {"type": "<world: events read up to here>", "token": uuid.uuid4().hex}
        await self.redis.publish(self.settings.event_channel, json.dumps(marker))
        async with asyncio.timeout(EVENTS_ARRIVE_WITHIN_SECONDS):
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None:
                    continue
                event = json.loads(message["data"])
                if event == marker:
                    return
                self.events.append(event)

    async def record(self) -> dict[str, Any]:
        await self._collect_events()
        jobs = await self.backend.executed_jobs()
        recording = await record(
            self.settings, self.database, RunLog(self.events, jobs, self.one_at_a_time)
        )
        if self.redelivered:
            recording = at_least_once(recording)
        return recording

    _pubsub: Any = None


class _DatabaseHolder:
    """A second connection holding BEGIN EXCLUSIVE on its own thread until `release()` (at
    most `LONGEST_HOLD_SECONDS`): what another process locking the database does."""

    LONGEST_HOLD_SECONDS = 120.0

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file
        self._held = threading.Event()
        self._release = threading.Event()
        self._problem: BaseException | None = None
        self._thread = threading.Thread(target=self._hold, name="database-holder", daemon=True)

    def _hold(self) -> None:
        try:
            connection = sqlite3.connect(self.database_file, timeout=10, isolation_level=None)
            try:
                connection.execute("BEGIN EXCLUSIVE")
                self._held.set()
                self._release.wait(self.LONGEST_HOLD_SECONDS)
                connection.execute("ROLLBACK")
            finally:
                connection.close()
        except BaseException as exc:
            self._problem = exc
            self._held.set()

    def start(self) -> None:
        self._thread.start()
        if not self._held.wait(15) or self._problem is not None:
            raise RuntimeError(f"could not hold the database: {self._problem}")

    def release(self) -> None:
        self._release.set()
        self._thread.join(15)


@asynccontextmanager
async def open_world(
    backend: QueueBackend,
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    broker: PrivateBroker | None = None,
) -> AsyncIterator[World]:
    """Fresh data folder and Redis database; the env is what the backend's workers read too."""
    data_dir = tmp_path / f"world-{uuid.uuid4().hex[:8]}" / "data"
    monkeypatch.setenv("DATA_DIR_PATH", str(data_dir))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MUS_EVENT_CHANNEL", f"mus:contract:{uuid.uuid4().hex}")
    monkeypatch.setenv("MUS_WATCHER_ENABLED", "false")
    monkeypatch.setenv("MUS_INITIAL_SCAN_ENABLED", "false")
    monkeypatch.setenv("MUS_RECONCILE_SECONDS", "0")  # scenarios call world.reconcile()
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # The opt-in ID3v2.3 rewrite stays on here: its write, fingerprint and watcher echo are
    # job behaviour both backends must agree on (tag_rewrite_echo_within_the_lock_is_ignored,
    # the id3-version mutant). mus's default (a scan writes nothing) is tested in backend/tests.
    monkeypatch.setenv("MUS_NORMALISE_ID3", "true")
    monkeypatch.delenv("MUSIC_DIR_PATH", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    settings.ensure_directories()
    redis = aioredis.Redis.from_url(redis_url)
    await redis.flushdb()
    database = Database.from_settings(settings)
    await database.create_tables()
    async with AsyncExitStack() as stack:
        job_queue = await backend.start(settings)
        world = World(
            settings=settings,
            database=database,
            backend=backend,
            job_queue=job_queue,
            redis=redis,
            stack=stack,
            broker=broker,
        )
        await world.listen()
        try:
            yield world
        finally:
            await stack.aclose()
            await world._pubsub.aclose()
            await backend.stop()
            await database.dispose()
            await redis.flushdb()
            await redis.aclose()
            get_settings.cache_clear()
            await asyncio.sleep(0)
