"""The api's file watcher: OS change batches in, one job per meaningful change out.

It never dies of a bad batch or a broker outage: it logs and goes on, and the start-up
scan reconciles whatever an outage made it miss. When the music folder disappears (an
unmounted disk, a folder deleted and made again) it says so, waits for it, watches the
new one and re-scans it; its state (`ok`, `restarting`) is in the shared LibraryStatus.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from pathlib import Path

from watchfiles import Change, awatch

from mus.adapters.fault_episodes import FaultEpisode
from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.resource_faults import resource_fault
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.application.job_queue import JobQueue, JobRequest
from mus.application.library_status import LibraryStatus, WatcherState
from mus.core.broker_preflight import BrokerUnavailableError
from mus.watcher.change_mapper import map_changes, touched_paths
from mus.watcher.creation_batches import batch_creations
from mus.watcher.known_tracks import KnownTracks
from mus.watcher.watched_folders import watched_folders

logger = logging.getLogger(__name__)

# How long the watch thread may block before it looks again; bounds the delay of a
# cancellation that arrives without the stop event.
RUST_TIMEOUT_MS = 1_000
CARRY_SECONDS = RUST_TIMEOUT_MS / 1000 + 0.5
"""How long a replaced watch is given to yield what it saw (its yield on timeout comes
within RUST_TIMEOUT_MS; with changes flowing, within the debounce)."""
REWATCH_ROUNDS = 10
"""How often a watch is set up again while folders keep appearing during its set-up."""


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


Rescan = Callable[[], Awaitable[object]]
"""What to run when the music folder comes back (the api passes its start-up scan)."""


def _identity(root: Path) -> tuple[int, int] | None:
    """(device, inode) of the root folder, None when it is gone or not a folder."""
    try:
        status = root.stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if root.is_dir() else None


async def _next_batch(
    batches: AsyncGenerator[set[tuple[Change, str]], None],
) -> set[tuple[Change, str]] | None:
    try:
        return await anext(batches)
    except StopAsyncIteration:
        return None


class _OsWatch:
    """One running watchfiles watch: its next batch, and a stop that waits for its thread."""

    def __init__(self, batches: AsyncGenerator[set[tuple[Change, str]], None], halt: _Halt) -> None:
        self.batches = batches
        self.halt = halt
        self.pending = asyncio.ensure_future(_next_batch(batches))

    async def next_batch(self) -> set[tuple[Change, str]] | None:
        # asyncio.wait, not await: a cancellation must not cancel the watch task before
        # `halt` tells its thread to return.
        await asyncio.wait({self.pending})
        return self._take_pending()

    async def last_batch(self, within_seconds: float) -> set[tuple[Change, str]]:
        """What this watch has seen and not yet yielded, waiting at most `within_seconds` for
        it (it yields once its changes settle, or an empty batch each RUST_TIMEOUT_MS)."""
        done, _ = await asyncio.wait({self.pending}, timeout=within_seconds)
        return (self._take_pending() or set()) if done else set()

    def _take_pending(self) -> set[tuple[Change, str]] | None:
        """The finished batch (None: the watch ended), the next one asked for meanwhile."""
        changes = self.pending.result()
        if changes is not None:
            self.pending = asyncio.ensure_future(_next_batch(self.batches))
        return changes

    async def close(self) -> None:
        self.halt.set()
        if not self.pending.done():
            with contextlib.suppress(Exception):
                await self.pending
        await self.batches.aclose()


def _adds_folders(changes: Iterable[tuple[Change, str]]) -> bool:
    """Whether a batch reports something added that is a folder now (a new folder to watch)."""
    return any(kind == Change.added and Path(path).is_dir() for kind, path in changes)


class LibraryWatcher:
    """Watches the library's folders and queues file jobs through the outbox and the port."""

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
        status: LibraryStatus | None = None,
        rescan: Rescan | None = None,
        batch_files: int = 50,
    ) -> None:
        """`force_polling=None` lets watchfiles decide (env `WATCHFILES_FORCE_POLLING`).

        `rescan` runs once the watch is back on a music folder that had disappeared.
        """
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
        self.status = status if status is not None else LibraryStatus()
        self.rescan = rescan
        self.batch_files = batch_files
        """Creations of one batch per `handle_files_created` job (`creation_batches`)."""
        self._stop_event: asyncio.Event | None = None

    async def run(self, stop_event: asyncio.Event) -> None:
        """Watch until `stop_event` is set; a failing watch (root gone...) restarts later.

        Every restart is logged; a folder that was gone is re-scanned once it is back.
        """
        self._stop_event = stop_event
        root_was_gone = False
        rescan_next = False
        while not stop_event.is_set():
            if await asyncio.to_thread(_identity, self.music_root) is None:
                if not root_was_gone:
                    logger.warning(
                        "file watcher on %s: the music folder is gone; waiting for it to "
                        "come back (checked every %.1f s)",
                        self.music_root,
                        self.restart_delay_seconds,
                    )
                root_was_gone = True
                self.status.set_watcher(WatcherState.RESTARTING)
                await self._pause(stop_event)
                continue
            if root_was_gone:
                logger.warning(
                    "file watcher on %s: the music folder is back; watching and re-scanning it",
                    self.music_root,
                )
            try:
                await self._watch(stop_event, rescan_when_ready=root_was_gone or rescan_next)
            except Exception:
                logger.exception(
                    "file watcher on %s failed; restarting in %.1f s",
                    self.music_root,
                    self.restart_delay_seconds,
                )
                self.status.set_watcher(WatcherState.RESTARTING)
                await self._pause(stop_event)
            else:
                if not stop_event.is_set():
                    logger.warning(
                        "file watcher on %s: the music folder was removed or replaced; "
                        "restarting the watch",
                        self.music_root,
                    )
                    self.status.set_watcher(WatcherState.RESTARTING)
                    # Replaced (or made again before this loop looked): what landed in between
                    # reached no watch, so the next one re-scans the folder.
                    rescan_next, root_was_gone = True, False
                    continue
            root_was_gone = False
            rescan_next = False

    async def _pause(self, stop_event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), self.restart_delay_seconds)

    async def _rescan(self) -> None:
        if self.rescan is None:
            return
        try:
            await self.rescan()
        except Exception:
            logger.exception("file watcher: re-scan of %s failed", self.music_root)

    async def _watch(self, stop_event: asyncio.Event, *, rescan_when_ready: bool = False) -> None:
        """One OS watch of the library's folders; returns when stopped or when the root is not
        the same folder any more (gone, or deleted and made again: the watch would see nothing).

        Each folder is watched on its own (`watched_folders`); a batch that adds folders gets
        a new watch that includes them before it is mapped, so what lands in them later is
        seen, and what landed before is found by the mapping's walk of the added folder.
        """
        identity = await asyncio.to_thread(_identity, self.music_root)
        folders = await asyncio.to_thread(watched_folders, self.music_root)
        watch = self._open_watch(folders, stop_event)
        try:
            # One loop turn runs the generator up to its first wait: the OS watch now exists.
            await asyncio.sleep(0)
            if not watch.pending.done():
                self._watching()
            if rescan_when_ready:
                await self._rescan()
            while True:
                changes = await watch.next_batch()
                if changes is None:
                    return
                if await asyncio.to_thread(_identity, self.music_root) != identity:
                    return
                self._watching()
                adds_folders = bool(changes) and await asyncio.to_thread(_adds_folders, changes)
                if adds_folders:
                    watch, folders, appeared, carried = await self._rewatch(
                        watch, folders, stop_event
                    )
                    added = {(Change.added, str(folder)) for folder in appeared}
                    changes = {*changes, *carried, *added}
                if changes:
                    await self.handle_changes(changes)
        finally:
            self.ready.clear()
            await watch.close()

    async def _rewatch(
        self, watch: _OsWatch, folders: list[Path], stop_event: asyncio.Event
    ) -> tuple[_OsWatch, list[Path], list[Path], set[tuple[Change, str]]]:
        """A watch of every folder there is now, opened before the old one closes; returns
        it, its folders and the folders that appeared since `folders`, for the mapping to
        walk (what landed in them before they were watched is found that way).

        A folder made while the new watch was being set up is in no watch (its parent's
        event went to the old one, or came before its parent was watched): the folders are
        listed again once the new watch is in place, until no new one shows up. Found by
        `make bench`'s copy of 1,000 files in 40 folders: one album's files were never seen.
        """
        before = set(folders)
        carried: set[tuple[Change, str]] = set()
        for _ in range(REWATCH_ROUNDS):
            now = await asyncio.to_thread(watched_folders, self.music_root)
            if now == folders:
                break
            replaced = watch
            folders = now
            watch = self._open_watch(folders, stop_event)
            await asyncio.sleep(0)  # the new OS watch exists from here on
            # What the old watch saw since its last batch is in no other watch: taken before
            # it closes (the new one may see some of it again: a repeat is harmless). Twice:
            # a batch it had ready may end before the new watch was in place, and its next
            # one holds what came in between.
            for _ in range(2):
                carried |= await replaced.last_batch(CARRY_SECONDS)
            await replaced.close()
        return watch, folders, [folder for folder in folders if folder not in before], carried

    def _open_watch(self, folders: list[Path], stop_event: asyncio.Event) -> _OsWatch:
        return _OsWatch(
            awatch(
                *folders,
                watch_filter=None,  # change_mapper holds every rule about what matters
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=(halt := _Halt(stop_event)),
                rust_timeout=RUST_TIMEOUT_MS,
                yield_on_timeout=True,  # an empty batch each second: time to check the root
                force_polling=self.force_polling,
                recursive=False,
                ignore_permission_denied=True,
            ),
            halt,
        )

    def _watching(self) -> None:
        if not self.ready.is_set():
            logger.info("watching %s for changes", self.music_root)
        self.ready.set()
        self.status.set_watcher(WatcherState.OK)

    async def handle_changes(self, changes: Iterable[tuple[Change, str]]) -> int:
        """Map one batch against the database and dispatch it; returns the jobs enqueued.

        A database that cannot be read or written for now (locked past its busy timeout,
        its folder full) does not cost the batch: it is held here and tried again with
        backoff, one log line per episode, until the database answers or the watcher stops.
        Meanwhile the OS watch keeps collecting later changes, handled after this batch.
        """
        batch = list(changes)
        episode = FaultEpisode(logger, f"file watcher (a batch of {len(batch)} changes held)")
        while True:
            try:
                sent = await self._map_and_dispatch(batch)
            except Exception as exc:
                fault = resource_fault(exc)
                if fault is None:
                    logger.exception("file watcher could not map a batch of %d changes", len(batch))
                    return 0
                if await self._stops_within(episode.failed(fault)):
                    logger.warning(
                        "file watcher stopped with %d changes held: the start-up scan of the "
                        "next start finds them",
                        len(batch),
                    )
                    return 0
            else:
                episode.recovered()
                return sent

    async def _stops_within(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the watcher is told to stop; whether it was."""
        stop = self._stop_event
        if stop is None:
            await asyncio.sleep(seconds)
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        return stop.is_set()

    async def _map_and_dispatch(self, batch: list[tuple[Change, str]]) -> int:
        async with self.database.session() as session:
            known = KnownTracks(TrackRepository(session))
            requests = await map_changes(
                batch,
                music_root=self.music_root,
                known_inode=known.inode_of,
                known_tracks_under=known.inodes_under,
                known_inodes=known.inodes_of,
            )
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
        requests = list(requests)
        held = await self._held_paths(requests)
        wanted: list[JobRequest] = []
        echoes = 0
        for request in requests:
            if held.intersection(touched_paths(request)) and await self._is_echo(request):
                echoes += 1
                logger.debug(
                    "file watcher: ignored own write %s%s", request.task_name, request.kwargs
                )
            else:
                wanted.append(request)
        wanted = batch_creations(wanted, self.batch_files)
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

    async def _held_paths(self, requests: list[JobRequest]) -> set[str]:
        """The paths of the batch mus holds a write lock on (one round trip for the batch);
        all of them when the broker cannot tell, so each is checked on its own."""
        paths = sorted({path for request in requests for path in touched_paths(request)})
        try:
            return await self.write_lock.held_among(paths)
        except BrokerUnavailableError:
            return set(paths)

    async def _fingerprint(self, relative_path: str) -> str | None:
        """What the file holds now (None when it cannot be read: not our echo then)."""
        try:
            return await asyncio.to_thread(content_fingerprint, self.music_root / relative_path)
        except OSError:
            return None

    async def _is_echo(self, request: JobRequest) -> bool:
        for path in touched_paths(request):
            try:
                if await self.write_lock.mutes(
                    path, request.task_name, functools.partial(self._fingerprint, path)
                ):
                    return True
            except BrokerUnavailableError as exc:
                # Cannot tell: queue it; a job on our own write finds nothing to change.
                logger.warning("file watcher: write-lock check failed for %s: %s", path, exc)
        return False
