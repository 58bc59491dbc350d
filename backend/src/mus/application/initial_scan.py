"""Start-up scan: index the folder fast, then hand the slow analysis to background jobs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.fast_scan import FastScanReport, fast_scan
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.application.job_queue import JobQueue
from mus.application.library_status import LibraryStatus
from mus.core.config import Settings
from mus.domain.track import ProcessingStatus

logger = logging.getLogger(__name__)

SLOW_BATCH_SIZE = 25


@dataclass(frozen=True, slots=True)
class InitialScanReport:
    """The fast scan's counts and how many slow batch jobs were queued."""

    fast_scan: FastScanReport
    pending_tracks: int
    slow_batches: int


async def pending_track_ids(database: Database) -> list[int]:
    """Tracks whose slow analysis has not run yet, in id order."""
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks(status=ProcessingStatus.PENDING)
    return sorted(track.id for track in tracks)


async def run_initial_scan(
    database: Database,
    settings: Settings,
    job_queue: JobQueue,
    *,
    batch_size: int = SLOW_BATCH_SIZE,
    status: LibraryStatus | None = None,
) -> InitialScanReport:
    """Fast scan (no per-track events), then one low-priority batch job per `batch_size` tracks.

    `status` learns whether the root looked unmounted (the healthcheck shows it).
    """
    report = await fast_scan(
        database, settings.music_dir_path, max_prune_share=settings.max_prune_share
    )
    if status is not None:
        status.root_looks_unmounted = report.root_looks_unmounted
    covers = CoverStore(settings.covers_dir_path)
    for track_id in report.pruned_track_ids:
        await asyncio.to_thread(covers.delete, track_id)
    pending = await pending_track_ids(database)
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    # Kept first, then sent: a broker that is down or flaps delays the analysis, never loses it.
    async with database.session() as session:
        kept = [
            await keep_job(session, "process_slow_metadata_batch", track_ids=batch)
            for batch in batches
        ]
    sent = await OutboxRelay(database, job_queue).send(kept)
    if sent < len(kept):
        logger.warning(
            "initial scan: %d of %d slow batches kept until the broker is back",
            len(kept) - sent,
            len(kept),
        )
    logger.info(
        "initial scan: %d found, %d indexed, %d pruned, %d pending in %d slow batches (%.1fs)",
        report.found,
        report.indexed,
        report.pruned,
        len(pending),
        len(batches),
        report.elapsed_seconds,
    )
    return InitialScanReport(
        fast_scan=report, pending_tracks=len(pending), slow_batches=len(batches)
    )
