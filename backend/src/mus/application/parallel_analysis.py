"""Slow analysis of many tracks at once, for `mus scan` (no broker): file work in processes.

One process is bound by one GIL. Measured on the generated library (2 cores): the file part
(mutagen parse, tag rewrite, cover) costs ~3 ms a track and the database part about as much.
Worker processes each running whole analyses were slower than one process (two SQLite
writers wait on each other through the busy handler's sleeps); so this process keeps every
database write, and a pool of worker processes does the file part (`analyse_file`, one call
per track).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

from mus.adapters.persistence.database import Database
from mus.application.slow_analysis import (
    AnalysisOutcome,
    AnalysisResult,
    DurationReader,
    analyse_track,
)
from mus.core.config import Settings

JOB_NAME = "mus scan"
# Below this, starting worker processes (~1 s of imports) costs more than it saves.
MIN_TRACKS_FOR_PROCESSES = 200


@dataclass(frozen=True, slots=True)
class AnalysedTrack:
    """What one analysis did, for the scan's summary."""

    track_id: int
    outcome: AnalysisOutcome
    file_path: str | None
    reader: DurationReader | None
    cover_encoded: bool

    @classmethod
    def of(cls, result: AnalysisResult) -> AnalysedTrack:
        findings = result.findings
        return cls(
            track_id=result.track_id,
            outcome=result.outcome,
            file_path=result.track.file_path if result.track else None,
            reader=findings.reader if findings else None,
            cover_encoded=findings.cover_encoded if findings else False,
        )


def default_processes() -> int:
    """One per core."""
    return os.cpu_count() or 1


async def analyse_many(
    database: Database,
    settings: Settings,
    track_ids: Sequence[int],
    *,
    processes: int,
    concurrency: int,
    on_progress: Callable[[int], None] | None = None,
) -> list[AnalysedTrack]:
    """Analyse every track, `concurrency` at a time; file work in `processes` processes
    (1, or a small library: in this process's threads)."""
    if processes <= 1 or len(track_ids) < MIN_TRACKS_FOR_PROCESSES:
        return await _analyse(
            database,
            settings,
            track_ids,
            concurrency=concurrency,
            pool=None,
            on_progress=on_progress,
        )
    # spawn, not fork: this process has threads (aiosqlite, to_thread) that fork would copy
    # mid-flight.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        return await _analyse(
            database,
            settings,
            track_ids,
            concurrency=concurrency,
            pool=pool,
            on_progress=on_progress,
        )


async def _analyse(
    database: Database,
    settings: Settings,
    track_ids: Sequence[int],
    *,
    concurrency: int,
    pool: Executor | None,
    on_progress: Callable[[int], None] | None,
) -> list[AnalysedTrack]:
    gate = asyncio.Semaphore(concurrency)
    analysed: list[AnalysedTrack] = []

    async def analyse(track_id: int) -> None:
        async with gate:
            result = await analyse_track(
                database, settings, track_id, job_name=JOB_NAME, file_processes=pool
            )
        analysed.append(AnalysedTrack.of(result))
        if on_progress:
            on_progress(1)

    await asyncio.gather(*(analyse(track_id) for track_id in track_ids))
    return analysed
