"""The fast scan: index the whole music folder quickly, in batches, with no per-track events.

A rescan is stat-only: the walk stats each file once, and a file whose size, mtime and
inode all match its row (the whole table is read in one query first) costs nothing more:
no open, no tag read, no fingerprint, no query, no write. What this trusts: a file rewritten
in place with the same size and the same mtime is not read again (the watcher sees such
edits as they happen); `full=True` reads every file regardless.

Files that are new or differ are read by worker processes when there are many of them (tag
parsing is Python code bound by the GIL), by threads otherwise, and written with one
statement and one commit per batch, so other writers (the worker) are never blocked for
long. Files found gone afterwards are pruned; files merely unreadable right now are kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import IndexedFile, TrackRepository
from mus.adapters.scanner.library_walker import LibraryWalk, WalkedFile
from mus.adapters.scanner.reader_pool import ReaderPool
from mus.adapters.scanner.scan_reader import ReadResult, ScanTarget, UnreadFile, library_form
from mus.domain.track import FastMetadata

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]

PROCESS_POOL_THRESHOLD = 1500
"""Files to read from which worker processes pay for their start-up (about a second to spawn
and import). Measured with scan_bench on 2 quiet cores: 2,000 new files 1,238-1,313 files/s
in threads, 1,499-1,885 with processes from 1,500 waiting; 10,000 new files 1,190 in threads,
3,338 with processes. (On busy cores 2,000 files had done better in threads.)"""


@dataclass(frozen=True, slots=True)
class ScanFailure:
    """A file (or folder) the scan could not index; `path` is library-relative when possible."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class FastScanReport:
    """What one fast scan did. `skipped` counts the entries listed in `failures`."""

    found: int
    indexed: int
    inserted: int
    changed: int
    unchanged: int
    skipped: int
    pruned: int
    failures: tuple[ScanFailure, ...]
    elapsed_seconds: float
    pruned_track_ids: tuple[int, ...] = ()
    prune_refused: int = 0
    """Rows kept although their files are gone, because the root looks unmounted."""
    read: int = 0
    """Files opened and parsed; the rest of `found` were trusted on one stat."""
    read_in_processes: int = 0
    """Of `read`, those read by worker processes (the rest in threads)."""

    @property
    def root_looks_unmounted(self) -> bool:
        return self.prune_refused > 0

    @property
    def files_per_second(self) -> float:
        """Throughput over the files found, for logs and benchmarks."""
        return self.found / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


def default_workers() -> int:
    """Reads wait on the disk more than on the CPU: two threads a core, at most eight."""
    return min(8, (os.cpu_count() or 1) * 2)


def default_processes() -> int:
    """One reader process a core: the parse is CPU work."""
    return os.cpu_count() or 1


@dataclass(slots=True)
class _Tally:
    """What the scan has seen so far."""

    found: int = 0
    read: int = 0
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    present: set[str] = field(default_factory=set)
    failures: list[ScanFailure] = field(default_factory=list)


async def fast_scan(
    database: Database,
    music_root: Path,
    *,
    batch_size: int = 200,
    max_workers: int | None = None,
    processes: int | None = None,
    on_progress: ProgressCallback | None = None,
    max_prune_share: float = 0.5,
    full: bool = False,
) -> FastScanReport:
    """Index every audio file under `music_root`, then prune rows whose files are gone.

    Raises MusicFolderUnavailableError (before touching the index) when the folder itself
    cannot be listed. Problems with single files end up in `failures`, never stop the scan.
    When the root holds no audio at all and the prune would take more than
    `max_prune_share` of the library, nothing is pruned (see `looks_unmounted`).
    `processes` (default: one a core; 0: threads only) read when more than
    PROCESS_POOL_THRESHOLD files need reading; `full` re-reads files whose stat matches.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    started = time.perf_counter()
    # Only rows that existed before the walk may be pruned: a row added meanwhile (by the
    # watcher's jobs) belongs to a file the walk may simply have passed already.
    async with database.session() as session:
        index = await TrackRepository(session).scan_index()
    indexed_before = {path: row.track_id for path, row in index.items()}
    walk = LibraryWalk(music_root)
    tally = _Tally()
    reading = _Reading(
        database,
        music_root,
        tally,
        batch_size=batch_size,
        threads=max_workers or default_workers(),
        processes=default_processes() if processes is None else processes,
        on_progress=on_progress,
    )
    try:
        await reading.run(walk.files(), index, full=full)
    finally:
        reading.close()

    kept_folders: list[str] = []
    for skip in walk.skipped:
        file_path = library_form(skip.path, music_root)
        tally.failures.append(ScanFailure(file_path, skip.reason))
        if skip.keep_indexed and skip.is_directory:
            kept_folders.append(f"{file_path}/")
        elif skip.keep_indexed:
            tally.present.add(file_path)
    gone = [
        file_path
        for file_path in indexed_before
        if file_path not in tally.present and not file_path.startswith(tuple(kept_folders))
    ]
    refused = 0
    if looks_unmounted(tally.found, len(gone), len(indexed_before), max_prune_share):
        refused, gone = len(gone), []
        logger.warning(
            "library root looks unmounted: %s holds no audio file; %d of %d tracks kept, "
            "not pruned (they keep their ids when the files come back)",
            music_root,
            refused,
            len(indexed_before),
        )
    pruned_ids = await _prune(database, {path: indexed_before[path] for path in gone})
    report = FastScanReport(
        found=tally.found,
        indexed=tally.inserted + tally.changed + tally.unchanged,
        inserted=tally.inserted,
        changed=tally.changed,
        unchanged=tally.unchanged,
        skipped=len(tally.failures),
        pruned=len(pruned_ids),
        failures=tuple(tally.failures),
        elapsed_seconds=time.perf_counter() - started,
        pruned_track_ids=pruned_ids,
        prune_refused=refused,
        read=tally.read,
        read_in_processes=reading.read_in_processes,
    )
    logger.info(
        "fast scan of %s: %d found (%d read), %d new, %d changed, %d unchanged, %d skipped, "
        "%d pruned in %.2fs (%.0f files/s)",
        music_root,
        report.found,
        report.read,
        report.inserted,
        report.changed,
        report.unchanged,
        report.skipped,
        report.pruned,
        report.elapsed_seconds,
        report.files_per_second,
    )
    return report


class _Reading:
    """Walks, trusts what one stat proves unchanged, and reads and upserts the rest.

    Reads run ahead of the writes (a few batches in flight), so parsing in the readers and
    writing in SQLite overlap.
    """

    def __init__(
        self,
        database: Database,
        music_root: Path,
        tally: _Tally,
        *,
        batch_size: int,
        threads: int,
        processes: int,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.database = database
        self.music_root = music_root
        self.tally = tally
        self.batch_size = batch_size
        self.threads = threads
        self.processes = processes
        self.on_progress = on_progress
        # Paths the walk names are the index's form unless the root is spelled with `..`.
        self.walk_names_paths = ".." not in music_root.absolute().parts
        self._walker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mus-walk")
        self._readers: ReaderPool | None = None
        self._in_flight: deque[asyncio.Task[list[ReadResult]]] = deque()

    async def run(
        self, files: Iterator[WalkedFile], index: dict[str, IndexedFile], *, full: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        waiting: list[ScanTarget] = []
        size = self.batch_size
        while batch := await loop.run_in_executor(self._walker, _next_batch, files, size):
            self.tally.found += len(batch)
            trusted = 0
            for walked in batch:
                target = self._target(walked)
                if not full and _matches(index.get(target.file_path), walked.status):
                    self.tally.present.add(target.file_path)
                    trusted += 1
                else:
                    waiting.append(target)
            self.tally.unchanged += trusted
            if trusted and self.on_progress is not None:
                self.on_progress(trusted)
            if self._readers is None and len(waiting) >= PROCESS_POOL_THRESHOLD:
                self._readers = self._start_readers(many=True)
            if self._readers is not None:
                waiting = await self._send_full_batches(waiting)
        if waiting:
            if self._readers is None:
                self._readers = self._start_readers(many=False)
            for start in range(0, len(waiting), self.batch_size):
                await self._send(waiting[start : start + self.batch_size])
        while self._in_flight:
            await self._write(self._in_flight.popleft())

    @property
    def read_in_processes(self) -> int:
        return 0 if self._readers is None else self._readers.read_in_processes

    def close(self) -> None:
        """Stop the readers (their processes are reaped) and the walk thread."""
        for task in self._in_flight:
            task.cancel()
        if self._readers is not None:
            self._readers.close()
        self._walker.shutdown(wait=True, cancel_futures=True)

    def _target(self, walked: WalkedFile) -> ScanTarget:
        file_path = (
            walked.relative
            if self.walk_names_paths
            else library_form(Path(walked.path), self.music_root)
        )
        return ScanTarget(walked.path, file_path, walked.status.st_dev, walked.status.st_ino)

    def _start_readers(self, *, many: bool) -> ReaderPool:
        """Worker processes for many files; for a few, threads (no process start-up)."""
        processes = self.processes if many else 0
        return ReaderPool(self.music_root, processes, threads=self.threads)

    async def _send_full_batches(self, waiting: list[ScanTarget]) -> list[ScanTarget]:
        """Send every full batch; returns the rest, which waits for more of the walk."""
        full_batches = len(waiting) - len(waiting) % self.batch_size
        for start in range(0, full_batches, self.batch_size):
            await self._send(waiting[start : start + self.batch_size])
        return waiting[full_batches:]

    async def _send(self, targets: list[ScanTarget]) -> None:
        """Hand a batch to the readers; with enough in flight, write the oldest first."""
        assert self._readers is not None
        limit = max(4, 2 * self._readers.processes)
        while len(self._in_flight) >= limit:
            await self._write(self._in_flight.popleft())
        self._in_flight.append(asyncio.create_task(self._readers.read(targets)))

    async def _write(self, reading: asyncio.Task[list[ReadResult]]) -> None:
        """One batch's results: one upsert and one commit, then the progress callback."""
        results = await reading
        tally = self.tally
        tally.read += len(results)
        batch: list[FastMetadata] = []
        for result in results:
            if isinstance(result, UnreadFile):
                tally.failures.append(ScanFailure(result.file_path, result.reason))
                if result.still_there:
                    tally.present.add(result.file_path)
                continue
            batch.append(result)
            tally.present.add(result.file_path)
        async with self.database.session() as session:
            outcome = await TrackRepository(session).upsert_many(batch)
        tally.inserted += outcome.inserted
        tally.changed += outcome.changed
        tally.unchanged += outcome.unchanged
        if self.on_progress is not None:
            self.on_progress(len(results))


def _matches(row: IndexedFile | None, status: os.stat_result) -> bool:
    """The stat-only test: size, mtime and inode as the row recorded them."""
    return (
        row is not None
        and row.size == status.st_size
        and row.mtime == status.st_mtime
        and row.inode == status.st_ino
    )


def looks_unmounted(found: int, gone: int, indexed: int, max_prune_share: float) -> bool:
    """A root with no audio file whose prune would take more than the allowed share.

    An unmounted disk, a network share that did not come up, a folder deleted and
    recreated empty: all look like this, and pruning would drop every row (and give new
    ids when the files return). A library that really lost its files is pruned by the
    watcher's per-file events, or by a scan once the root holds music again.
    """
    return found == 0 and gone > 0 and gone > max_prune_share * indexed


def _next_batch(files: Iterator[WalkedFile], size: int) -> list[WalkedFile]:
    """The walk's next `size` files; runs in a thread, since walking is blocking I/O too."""
    return list(islice(files, size))


async def _prune(database: Database, gone: dict[str, int]) -> tuple[int, ...]:
    """Delete the rows of files that are gone; returns the ids actually deleted.

    A row renamed meanwhile (same path, other id, or a moved row) is left alone, so the
    caller never deletes the covers of a track that still exists.
    """
    if not gone:
        return ()
    async with database.session() as session:
        repo = TrackRepository(session)
        current = await repo.all_paths()
        doomed = {
            path: track_id for path, track_id in gone.items() if current.get(path) == track_id
        }
        await repo.delete_paths(doomed)
    return tuple(sorted(doomed.values()))
