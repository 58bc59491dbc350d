"""The job outbox: a job is committed to SQLite with the change that implies it, then relayed.

A row and the job it calls for live in two systems; a crash or a broker outage between the
commit and the enqueue would lose the job, and the track would wait for a restart. So the job
intent is written in the same transaction as the row (`keep_job`), handed to the broker by a
relay right after the commit (`OutboxRelay.send`), and forgotten once the broker has it. What
a crash or an outage leaves behind, the relay loop of any running api or worker sends later
(`OutboxRelay.run`). Delivery is at-least-once: a relay that dies between sending and
forgetting sends again, and every job is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mus.adapters.fault_episodes import FaultEpisode
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.outbox_repository import OutboxEntry, OutboxRepository
from mus.adapters.resource_faults import resource_fault
from mus.application.job_queue import JobQueue, JobRejectedError, JobRequest, route_job
from mus.core.broker_preflight import BrokerUnavailableError

logger = logging.getLogger(__name__)

HANDOFF_SECONDS = 5.0
"""A writer sends its own entries at once; other relays wait this long before taking them."""
LEASE_SECONDS = 10.0
"""A claimed entry is another relay's again after this, if its claimer died meanwhile; a
delivery takes milliseconds, and one slower than this is at worst sent twice."""
RETRY_SECONDS = 1.0
"""After the broker refused a delivery, the entries are due again this much later."""
POLL_SECONDS = 1.0
CLAIM_LIMIT = 500
FORGET_GATHER_SECONDS = 0.05
"""While a relay loop runs, what its writers delivered is forgotten this long after, in one
transaction for all of them (one delete per job cost a write transaction per file)."""


async def keep_job(session: AsyncSession, task_name: str, **kwargs: Any) -> OutboxEntry:
    """Write a job into the outbox within the caller's transaction; returns the entry, for
    `OutboxRelay.send` once the transaction has committed.

    An unknown job or non-JSON arguments are refused here, as `enqueue` would.
    """
    route_job(task_name, kwargs)
    return await OutboxRepository(session).add(task_name, kwargs, due_in=HANDOFF_SECONDS)


class OutboxRelay:
    """Hands kept jobs to the broker through the job queue port, oldest first."""

    def __init__(self, database: Database, job_queue: JobQueue) -> None:
        self.database = database
        self.job_queue = job_queue
        self._wake = asyncio.Event()
        self._broker_away = False
        self._delivered: list[int] = []
        """Sent by writers, still in the outbox: the running loop forgets them together."""
        self._delivered_wake = asyncio.Event()
        self._looping = False

    async def send(self, entries: Sequence[OutboxEntry]) -> int:
        """Deliver the entries the caller just committed; returns how many the broker took.

        They are the writer's own for `HANDOFF_SECONDS` (no relay loop takes them sooner),
        so they go straight to the broker, without a claim. With the broker away, or the
        database busy or full, they stay in the outbox for the relay loop: the caller's
        change stands and its job follows once the resource is back.
        """
        if not entries:
            return 0
        try:
            return await self._deliver(entries, forget_later=self._looping)
        except Exception as exc:
            fault = resource_fault(exc)
            if fault is None:
                raise
            # Committed already: a database busy or full for now only delays them. The
            # caller's change stands (a job running again would find nothing to redo, and
            # skip what follows, such as its event), and the relay loop sends them later.
            logger.info(
                "job outbox: %d job(s) left for the relay loop: %s",
                len(entries),
                fault.sentence(),
            )
            self.wake()
            return 0

    async def flush(self) -> int:
        """Deliver every due entry; stops early while the broker is away."""
        total = 0
        while True:
            async with self.database.session() as session:
                entries = await OutboxRepository(session).claim(
                    lease_seconds=LEASE_SECONDS, limit=CLAIM_LIMIT
                )
            if not entries:
                return total
            sent = await self._deliver(entries)
            total += sent
            if sent < len(entries):
                return total

    def wake(self) -> None:
        """Ask the relay loop to flush now (the broker is back, or a writer could not send)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, poll_seconds: float = POLL_SECONDS) -> None:
        """Flush every `poll_seconds` (or when woken) until `stop` is set; meanwhile forget
        what writers delivered, gathered (see `FORGET_GATHER_SECONDS`)."""
        self._looping = True
        forgetting = asyncio.create_task(self._forget_delivered(), name="outbox-forget")
        try:
            await self._relay_rounds(stop, poll_seconds)
        finally:
            self._looping = False
            self._delivered_wake.set()
            await forgetting

    async def _relay_rounds(self, stop: asyncio.Event, poll_seconds: float) -> None:
        episode = FaultEpisode(logger, "job outbox relay", first_delay=poll_seconds)
        while not stop.is_set():
            self._wake.clear()
            wait = poll_seconds
            try:
                await self.flush()
            except Exception as exc:
                fault = resource_fault(exc)
                if fault is None:
                    logger.exception("job outbox: relay round failed; trying again")
                else:  # the database busy or full for a while: one line, then quiet rounds
                    wait = max(poll_seconds, episode.failed(fault))
            else:
                episode.recovered()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await _first_of(stop, self._wake)

    async def _forget_delivered(self) -> None:
        """Forget the writers' delivered entries in batches until the loop ends, then the rest.

        A crash before they are forgotten only means they are sent again once their
        hand-off time is over: at-least-once, as every job is idempotent.
        """
        while True:
            await self._delivered_wake.wait()
            if self._looping:
                await asyncio.sleep(FORGET_GATHER_SECONDS)
            self._delivered_wake.clear()
            ending = not self._looping  # after the clear: the loop's last wake is not missed
            ids, self._delivered = self._delivered, []
            if ids:
                try:
                    async with self.database.session() as session:
                        await OutboxRepository(session).forget(ids)
                except Exception as exc:
                    if resource_fault(exc) is None:
                        logger.exception("job outbox: forgetting %d sent job(s) failed", len(ids))
                    # Left in the outbox: sent again when due, harmless (idempotent jobs).
            if ending:
                return

    async def _deliver(self, entries: Sequence[OutboxEntry], *, forget_later: bool = False) -> int:
        """Send the claimed entries in one `enqueue_many`; forget what the broker took.

        Each entry is validated first, so one that no job of this release matches (left by
        an older mus) is dropped with its log line and the rest still go. With the broker
        away the whole batch is kept; a batch cut off mid-pipeline may have been partly
        taken, and is sent again whole: at-least-once, harmless as every job is idempotent.
        """
        valid: list[OutboxEntry] = []
        rejected: list[int] = []
        for entry in entries:
            try:
                route_job(entry.task_name, entry.kwargs)
            except JobRejectedError as exc:  # written by an older mus that knew this job
                logger.error("job outbox: dropping %s%s: %s", entry.task_name, entry.kwargs, exc)
                rejected.append(entry.id)
            else:
                valid.append(entry)
        delivered: list[int] = []
        undelivered: list[int] = []
        if valid:
            try:
                await self.job_queue.enqueue_many(
                    [JobRequest(entry.task_name, entry.kwargs) for entry in valid]
                )
            except BrokerUnavailableError as exc:
                undelivered = [entry.id for entry in valid]
                if not self._broker_away:
                    logger.warning(
                        "job outbox: broker away, %d job(s) kept until it is back: %s",
                        len(undelivered),
                        exc,
                    )
                self._broker_away = True
            else:
                delivered = [entry.id for entry in valid]
        if delivered and self._broker_away:
            logger.info("job outbox: broker back, delivering kept jobs")
            self._broker_away = False
        if forget_later and delivered:
            self._delivered += delivered
            self._delivered_wake.set()
            delivered_now: list[int] = []
        else:
            delivered_now = delivered
        if delivered_now or rejected or undelivered:
            async with self.database.session() as session:
                outbox = OutboxRepository(session)
                if delivered_now or rejected:
                    await outbox.forget([*delivered_now, *rejected])
                if undelivered:
                    await outbox.release(undelivered, due_in=RETRY_SECONDS)
        return len(delivered)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
