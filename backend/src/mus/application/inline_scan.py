"""`mus scan`: the fast scan, then slow analysis inline (no broker), for a one-off indexing."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.fast_scan import FastScanReport, fast_scan
from mus.application.initial_scan import pending_track_ids
from mus.application.slow_analysis import AnalysisOutcome, analyse_track
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

    @property
    def elapsed_seconds(self) -> float:
        return self.fast_seconds + self.slow_seconds


def default_concurrency() -> int:
    """ffprobe runs as a subprocess per file: a few per core keeps both cores busy."""
    return max(2, (os.cpu_count() or 1) * 2)


async def run_inline_scan(
    database: Database,
    settings: Settings,
    *,
    on_fast_start: Callable[[], None] | None = None,
    on_fast_progress: ProgressCallback | None = None,
    on_slow_start: Callable[[int], None] | None = None,
    on_slow_progress: ProgressCallback | None = None,
    concurrency: int | None = None,
) -> InlineScanReport:
    """Index the music folder, then analyse every PENDING track, a few at a time."""
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
    gate = asyncio.Semaphore(concurrency or default_concurrency())
    outcomes: list[AnalysisOutcome] = []

    async def analyse(track_id: int) -> None:
        async with gate:
            result = await analyse_track(database, settings, track_id, job_name="mus scan")
        outcomes.append(result.outcome)
        if on_slow_progress:
            on_slow_progress(1)

    await asyncio.gather(*(analyse(track_id) for track_id in pending))
    slow_seconds = time.perf_counter() - started
    async with database.session() as session:
        repo = TrackRepository(session)
        complete = await repo.count(status=ProcessingStatus.COMPLETE)
        errors = await repo.count(status=ProcessingStatus.ERROR)
    return InlineScanReport(
        fast_scan=report,
        analysed=len(outcomes),
        complete=complete,
        errors=errors,
        fast_seconds=fast_seconds,
        slow_seconds=slow_seconds,
    )
