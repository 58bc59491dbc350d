"""The safety net under the outbox: a PENDING track nothing is coming for gets its analysis.

The outbox keeps every job mus decides on. What it cannot see is a job the broker lost (a
Redis without persistence restarted, AOF's last second), one streaq gave up on after its
tries, or a requeue cut short by a crash. Such a track is PENDING with no kept job while
the broker holds nothing at all; then, and only then, its analysis is kept and relayed.
Waiting for an idle broker means a long backlog is never doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.outbox_repository import OutboxEntry, OutboxRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.core.broker_preflight import BrokerUnavailableError

logger = logging.getLogger(__name__)

QUIET_SECONDS = 5.0
"""A PENDING track touched more recently than this is left alone (its job may be on its way)."""
ANALYSIS_JOB = "process_slow_metadata"


def tracks_in(entries: list[OutboxEntry]) -> set[int]:
    """Track ids a kept job will analyse or touch."""
    found: set[int] = set()
    for entry in entries:
        if "track_id" in entry.kwargs:
            found.add(int(entry.kwargs["track_id"]))
        found.update(int(track_id) for track_id in entry.kwargs.get("track_ids", ()))
    return found


async def _stranded(database: Database, quiet_seconds: float) -> list[tuple[int, int]]:
    before = utc_now() - timedelta(seconds=quiet_seconds)
    async with database.session() as session:
        pending = await TrackRepository(session).pending_since(before)
        kept = tracks_in(await OutboxRepository(session).all_entries())
    return [(track_id, revision) for track_id, revision in pending if track_id not in kept]


async def reconcile_pending(
    database: Database, relay: OutboxRelay, *, quiet_seconds: float = QUIET_SECONDS
) -> int:
    """Keep and relay the analysis of every stranded PENDING track; returns how many.

    Nothing happens while the broker holds any job or cannot say.
    """
    if not await _stranded(database, quiet_seconds):
        return 0
    try:
        if await relay.job_queue.backlog():
            return 0
    except BrokerUnavailableError:
        return 0
    # Read again after the broker said it is idle: a job may have finished in between.
    stranded = await _stranded(database, quiet_seconds)
    if not stranded:
        return 0
    async with database.session() as session:
        ids = [
            await keep_job(session, ANALYSIS_JOB, track_id=track_id, revision=revision)
            for track_id, revision in stranded
        ]
    logger.warning(
        "reconciler: %d PENDING track(s) had no job (first: %d); their analysis is queued again",
        len(stranded),
        stranded[0][0],
    )
    await relay.send(ids)
    return len(stranded)


async def run_reconciler(
    database: Database, relay: OutboxRelay, stop: asyncio.Event, interval_seconds: float
) -> None:
    """`reconcile_pending` every `interval_seconds` until `stop` is set."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_seconds):
                await stop.wait()
        if stop.is_set():
            return
        try:
            await reconcile_pending(database, relay)
        except Exception:
            logger.exception("reconciler: round failed; trying again")
