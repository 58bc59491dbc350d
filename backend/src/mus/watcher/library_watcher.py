"""The api's file watcher: OS change batches in, one job per meaningful change out.

It never dies of a bad batch or a broker outage: it logs and goes on, and the start-up
scan reconciles whatever an outage made it miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterable
from pathlib import Path

from watchfiles import Change, awatch

from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.application.job_queue import JobQueue
from mus.core.broker_preflight import BrokerUnavailableError
from mus.watcher.change_mapper import JobRequest, map_changes
from mus.watcher.known_tracks import KnownTracks

logger = logging.getLogger(__name__)

# How long the watch thread may block before it looks again; bounds the delay of a
# cancellation that arrives without the stop event.
RUST_TIMEOUT_MS = 1_000


class _Halt:
    """The stop signal handed to watchfiles: the caller's event, or our own cancellation.

    watchfiles only calls `is_set()` (from its thread) and `set()`, so a cancelled watcher
    can stop its thread within one step instead of waiting for the caller's event.
    """

    def __init__(self, stop_event: asyncio.Event) -> None:
        self.stop_event = stop_event
        self.halted = False

    def is_set(self) -> bool:
        return self.halted or self.stop_event.is_set()

    def set(self) -> None:
        self.halted = True


async def _next_batch(
    batches: AsyncGenerator[set[tuple[Change, str]], None],
) -> set[tuple[Change, str]] | None:
    try:
        return await anext(batches)
    except StopAsyncIteration:
        return None


class LibraryWatcher:
    """Watches the music root recursively and queues file jobs through the outbox and the port."""

    def __init__(
        self,
        music_root: Path,
        job_queue: JobQueue,
        write_lock: WriteLock,
        database: Database,
        *,
        debounce_ms: int = 400,
        step_ms: int = 50,
        force_polling: bool | None = None,
        restart_delay_seconds: float = 5.0,
    ) -> None:
        """`force_polling=None` lets watchfiles decide (env `WATCHFILES_FORCE_POLLING`)."""
        self.music_root = music_root.resolve()
        self.relay = OutboxRelay(database, job_queue)
        self.write_lock = write_lock
        self.database = database
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.force_polling = force_polling
        self.restart_delay_seconds = restart_delay_seconds
        self.ready = asyncio.Event()
        """Set while the OS watch is in place: changes made from then on are seen."""

    async def run(self, stop_event: asyncio.Event) -> None:
        """Watch until `stop_event` is set; a failing watch (root gone...) restarts later."""
        while not stop_event.is_set():
            try:
                await self._watch(stop_event)
            except Exception:
                logger.exception(
                    "file watcher on %s failed; restarting in %.1f s",
                    self.music_root,
                    self.restart_delay_seconds,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), self.restart_delay_seconds)

    async def _watch(self, stop_event: asyncio.Event) -> None:
        halt = _Halt(stop_event)
        batches = awatch(
            self.music_root,
            watch_filter=None,  # change_mapper holds every rule about what matters
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=halt,
            rust_timeout=RUST_TIMEOUT_MS,
            force_polling=self.force_polling,
            recursive=True,
        )
        pending = asyncio.ensure_future(_next_batch(batches))
        try:
            # One loop turn runs the generator up to its first wait: the OS watch now exists.
            await asyncio.sleep(0)
            if not pending.done():
                self.ready.set()
                logger.info("watching %s for changes", self.music_root)
            while True:
                # asyncio.wait, not await: a cancellation must not cancel the watch task
                # before `halt` tells its thread to return.
                await asyncio.wait({pending})
                changes = pending.result()
                if changes is None:
                    return
                self.ready.set()
                await self.handle_changes(changes)
                pending = asyncio.ensure_future(_next_batch(batches))
        finally:
            self.ready.clear()
            halt.set()
            if not pending.done():
                with contextlib.suppress(Exception):
                    await pending
            await batches.aclose()

    async def handle_changes(self, changes: Iterable[tuple[Change, str]]) -> int:
        """Map one batch against the database and dispatch it; returns the jobs enqueued."""
        batch = list(changes)
        try:
            async with self.database.session() as session:
                known = KnownTracks(TrackRepository(session))
                requests = await map_changes(
                    batch,
                    music_root=self.music_root,
                    known_inode=known.inode_of,
                    known_tracks_under=known.inodes_under,
                )
        except Exception:
            logger.exception("file watcher could not map a batch of %d changes", len(batch))
            return 0
        if not requests:
            logger.debug("file watcher: %d changes, nothing to do", len(batch))
            return 0
        return await self.dispatch(requests)

    async def dispatch(self, requests: Iterable[JobRequest]) -> int:
        """Keep every request that is not the echo of mus's own write, then relay them.

        The jobs are written to the outbox first, in one transaction, so a broker that is
        away delays them and loses none: the relay delivers them, in order, once it is
        back. Returns how many jobs were kept.
        """
        wanted: list[JobRequest] = []
        echoes = 0
        for request in requests:
            if await self._is_echo(request):
                echoes += 1
                logger.debug(
                    "file watcher: ignored own write %s%s", request.task_name, request.kwargs
                )
            else:
                wanted.append(request)
        if wanted:
            async with self.database.session() as session:
                kept = [
                    await keep_job(session, request.task_name, **request.kwargs)
                    for request in wanted
                ]
            sent = await self.relay.send(kept)
        else:
            sent = 0
        logger.info(
            "file watcher: %d jobs queued, %d kept until the broker is back, %d own writes ignored",
            sent,
            len(wanted) - sent,
            echoes,
        )
        return len(wanted)

    async def _is_echo(self, request: JobRequest) -> bool:
        for path in request.paths:
            try:
                if await self.write_lock.mutes(path, request.task_name):
                    return True
            except BrokerUnavailableError as exc:
                # Cannot tell: queue it; a job on our own write finds nothing to change.
                logger.warning("file watcher: write-lock check failed for %s: %s", path, exc)
        return False
