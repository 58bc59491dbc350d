"""`mus scan`: the fast scan, then slow analysis inline (no broker), for a one-off indexing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.fast_scan import FastScanReport, fast_scan
from mus.application.initial_scan import pending_track_ids
from mus.application.parallel_analysis import AnalysedTrack, analyse_many, default_processes
from mus.application.slow_analysis import DurationReader
from mus.core.config import Settings
from mus.domain.track import ProcessingStatus

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class InlineScanReport:
    """The summary `mus scan` prints."""

    fast_scan: FastScanReport
    analysed: int
    complete: int
    errors: int
    fast_seconds: float
    slow_seconds: float
    processes: int
    ffprobe_fallbacks: tuple[str, ...]
    """Files whose header could not be trusted, so ffprobe decoded them (library paths)."""
    covers_encoded: int

    @property
    def elapsed_seconds(self) -> float:
        return self.fast_seconds + self.slow_seconds


def default_concurrency() -> int:
    """Tracks in flight per process: enough to overlap file reads with database writes."""
    return 4


async def run_inline_scan(
    database: Database,
    settings: Settings,
    *,
    on_fast_start: Callable[[], None] | None = None,
    on_fast_progress: ProgressCallback | None = None,
    on_slow_start: Callable[[int], None] | None = None,
    on_slow_progress: ProgressCallback | None = None,
    concurrency: int | None = None,
    processes: int | None = None,
) -> InlineScanReport:
    """Index the music folder, then analyse every PENDING track, a few at a time per process.

    `processes` defaults to the `MUS_SCAN_PROCESSES` setting (0 there: one per core).
    """
    await database.create_tables()
    if on_fast_start:
        on_fast_start()
    started = time.perf_counter()
    report = await fast_scan(
        database,
        settings.music_dir_path,
        on_progress=on_fast_progress,
        max_prune_share=settings.max_prune_share,
    )
    covers = CoverStore(settings.covers_dir_path)
    for track_id in report.pruned_track_ids:
        await asyncio.to_thread(covers.delete, track_id)
    fast_seconds = time.perf_counter() - started

    pending = await pending_track_ids(database)
    if on_slow_start:
        on_slow_start(len(pending))
    started = time.perf_counter()
    process_count = processes or settings.scan_processes or default_processes()
    analysed: list[AnalysedTrack] = await analyse_many(
        database,
        settings,
        pending,
        processes=process_count,
        concurrency=concurrency or default_concurrency(),
        on_progress=on_slow_progress,
    )
    slow_seconds = time.perf_counter() - started
    async with database.session() as session:
        repo = TrackRepository(session)
        complete = await repo.count(status=ProcessingStatus.COMPLETE)
        errors = await repo.count(status=ProcessingStatus.ERROR)
    return InlineScanReport(
        fast_scan=report,
        analysed=len(analysed),
        complete=complete,
        errors=errors,
        fast_seconds=fast_seconds,
        slow_seconds=slow_seconds,
        processes=process_count,
        ffprobe_fallbacks=tuple(
            sorted(
                a.file_path or str(a.track_id)
                for a in analysed
                if a.reader is DurationReader.FFPROBE
            )
        ),
        covers_encoded=sum(a.cover_encoded for a in analysed),
    )
