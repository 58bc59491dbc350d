"""What a running job may use: one per worker process, built at start-up.

Jobs take only JSON arguments (no backend context parameter), so whatever they need
beyond those arguments is reached here; each backend's wiring installs it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis

from mus.adapters.events.event_publisher import EventPublisher
from mus.adapters.fault_episodes import ride_out
from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.job_outbox import OutboxRelay
from mus.application.job_queue import JobQueue
from mus.core.config import Settings

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class JobRuntime:
    """The process's shared resources for jobs."""

    settings: Settings
    database: Database
    redis: Redis
    events: EventPublisher
    job_queue: JobQueue
    write_lock: WriteLock
    covers: CoverStore
    relay: OutboxRelay
    """Sends the jobs a job kept in the outbox; its loop also sends what crashes left."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    relay_loop: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: Settings, job_queue: JobQueue) -> JobRuntime:
        """Connect to the database and Redis (tables are created if missing), start the relay."""
        settings.ensure_directories()
        database = Database.from_settings(settings)
        # A database held by another process (or its folder full) at start is waited out
        # like any transient fault, rather than ending the worker before its first job.
        await ride_out(
            database.create_tables,
            what="worker start-up (tables)",
            logger=logger,
            patience_seconds=settings.resource_patience_seconds,
        )
        redis = Redis.from_url(settings.redis_url)
        runtime = cls(
            settings=settings,
            database=database,
            redis=redis,
            events=EventPublisher(redis, settings.event_channel),
            job_queue=job_queue,
            write_lock=WriteLock(redis, grace_seconds=settings.write_lock_grace_seconds),
            covers=CoverStore.from_settings(settings),
            relay=OutboxRelay(database, job_queue),
        )
        runtime.relay_loop = asyncio.create_task(runtime.relay.run(runtime.stop), name="relay")
        return runtime

    async def close(self) -> None:
        self.stop.set()
        if self.relay_loop is not None:
            await self.relay_loop
        await self.redis.aclose()
        await self.database.dispose()


_runtime: JobRuntime | None = None


def install_job_runtime(runtime: JobRuntime | None) -> None:
    """Set (or clear, with None) the runtime jobs of this process will use."""
    global _runtime  # noqa: PLW0603 - one runtime per worker process, by design
    _runtime = runtime


def get_job_runtime() -> JobRuntime:
    """The installed runtime; a job run outside a worker fails with a clear message."""
    if _runtime is None:
        raise RuntimeError("no job runtime installed: jobs run inside a mus worker")
    return _runtime
