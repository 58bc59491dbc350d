"""The fast scan: index the whole music folder quickly, in batches, with no per-track events.

Metadata is read by a thread pool (the work is file I/O plus a little parsing) and written
with one upsert and one commit per batch, so other writers (the worker) are never blocked
for long. Files found gone afterwards are pruned; files merely unreadable right now are kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fast_metadata import (
    EmptyAudioFileError,
    NotARegularFileError,
    read_fast_metadata,
)
from mus.adapters.scanner.library_path import (
    PathOutsideLibraryError,
    SymlinkLoopError,
    relative_library_path,
)
from mus.adapters.scanner.library_walker import LibraryWalk
from mus.domain.track import FastMetadata

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


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

    @property
    def root_looks_unmounted(self) -> bool:
        return self.prune_refused > 0

    @property
    def files_per_second(self) -> float:
        """Throughput over the files found, for logs and benchmarks."""
        return self.found / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Unread:
    """A file the walk found but whose metadata could not be read."""

    file_path: str
    reason: str
    still_there: bool


def default_workers() -> int:
    """Reads wait on the disk more than on the CPU: two threads a core, at most eight."""
    return min(8, (os.cpu_count() or 1) * 2)


async def fast_scan(
    database: Database,
    music_root: Path,
    *,
    batch_size: int = 200,
    max_workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    max_prune_share: float = 0.5,
) -> FastScanReport:
    """Index every audio file under `music_root`, then prune rows whose files are gone.

    Raises MusicFolderUnavailableError (before touching the index) when the folder itself
    cannot be listed. Problems with single files end up in `failures`, never stop the scan.
    When the root holds no audio at all and the prune would take more than
    `max_prune_share` of the library, nothing is pruned (see `looks_unmounted`).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    # Only rows that existed before the walk may be pruned: a row added meanwhile (by the
    # watcher's jobs) belongs to a file the walk may simply have passed already.
    async with database.session() as session:
        indexed_before = await TrackRepository(session).all_paths()

    walk = LibraryWalk(music_root)
    files = iter(walk)
    present: set[str] = set()
    failures: list[ScanFailure] = []
    found = inserted = changed = unchanged = 0
    executor = ThreadPoolExecutor(
        max_workers=max_workers or default_workers(), thread_name_prefix="mus-fast-scan"
    )
    try:
        while batch := await loop.run_in_executor(executor, _next_batch, files, batch_size):
            found += len(batch)
            results = await asyncio.gather(
                *(loop.run_in_executor(executor, _read, path, music_root) for path in batch)
            )
            batch_metadata: dict[str, FastMetadata] = {}
            for result in results:
                if isinstance(result, FastMetadata):
                    batch_metadata[result.file_path] = result
                    present.add(result.file_path)
                    continue
                failures.append(ScanFailure(result.file_path, result.reason))
                if result.still_there:
                    present.add(result.file_path)
            async with database.session() as session:
                outcome = await TrackRepository(session).upsert_many(list(batch_metadata.values()))
            inserted += outcome.inserted
            changed += outcome.changed
            unchanged += outcome.unchanged
            if on_progress is not None:
                on_progress(len(batch))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)

    kept_folders: list[str] = []
    for skip in walk.skipped:
        file_path = _library_form(skip.path, music_root)
        failures.append(ScanFailure(file_path, skip.reason))
        if skip.keep_indexed and skip.is_directory:
            kept_folders.append(f"{file_path}/")
        elif skip.keep_indexed:
            present.add(file_path)
    gone = [
        file_path
        for file_path in indexed_before
        if file_path not in present and not file_path.startswith(tuple(kept_folders))
    ]
    refused = 0
    if looks_unmounted(found, len(gone), len(indexed_before), max_prune_share):
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
        found=found,
        indexed=inserted + changed + unchanged,
        inserted=inserted,
        changed=changed,
        unchanged=unchanged,
        skipped=len(failures),
        pruned=len(pruned_ids),
        failures=tuple(failures),
        elapsed_seconds=time.perf_counter() - started,
        pruned_track_ids=pruned_ids,
        prune_refused=refused,
    )
    logger.info(
        "fast scan of %s: %d found, %d new, %d changed, %d unchanged, %d skipped, %d pruned "
        "in %.2fs (%.0f files/s)",
        music_root,
        report.found,
        report.inserted,
        report.changed,
        report.unchanged,
        report.skipped,
        report.pruned,
        report.elapsed_seconds,
        report.files_per_second,
    )
    return report


def looks_unmounted(found: int, gone: int, indexed: int, max_prune_share: float) -> bool:
    """A root with no audio file whose prune would take more than the allowed share.

    An unmounted disk, a network share that did not come up, a folder deleted and
    recreated empty: all look like this, and pruning would drop every row (and give new
    ids when the files return). A library that really lost its files is pruned by the
    watcher's per-file events, or by a scan once the root holds music again.
    """
    return found == 0 and gone > 0 and gone > max_prune_share * indexed


def _next_batch(files: Iterator[Path], size: int) -> list[Path]:
    """The walk's next `size` files; runs in the pool, since walking is blocking I/O too."""
    return list(islice(files, size))


def _read(path: Path, music_root: Path) -> FastMetadata | _Unread:
    """Fast metadata, or why not; `still_there` says whether the row must survive pruning.

    The walk already skipped (and logged) what it could see; what changed since it looked
    (a file swapped for a FIFO, a link or a loop) is logged here, once.
    """
    try:
        return read_fast_metadata(path, music_root)
    except FileNotFoundError:
        return _Unread(_library_form(path, music_root), "vanished during the scan", False)
    except EmptyAudioFileError:
        return _Unread(_library_form(path, music_root), "empty file", True)
    except NotARegularFileError:
        return _skipped(path, music_root, "not a regular file")
    except SymlinkLoopError:
        return _skipped(path, music_root, "symlink loop")
    except PathOutsideLibraryError:
        return _skipped(path, music_root, "outside the music folder")
    except OSError as exc:
        return _Unread(_library_form(path, music_root), f"unreadable: {exc.strerror or exc}", True)
    except Exception as exc:
        # One odd file must not cost the whole scan; its row, if any, is left as it was.
        logger.warning("fast scan: cannot read %s", path, exc_info=True)
        return _Unread(_library_form(path, music_root), f"cannot read: {exc!r}", True)


def _skipped(path: Path, music_root: Path, reason: str) -> _Unread:
    logger.warning("fast scan: skipped %s: %s", path, reason)
    return _Unread(_library_form(path, music_root), reason, False)


def _library_form(path: Path, music_root: Path) -> str:
    """The library-relative form of a path for reports; the path itself if it has none."""
    try:
        return relative_library_path(path, music_root)
    except (PathOutsideLibraryError, OSError):
        pass
    try:
        return path.relative_to(music_root).as_posix()
    except ValueError:
        return str(path)


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
