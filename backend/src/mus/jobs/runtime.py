"""What a running job may use: one per worker process, built at start-up.

Jobs take only JSON arguments (no backend context parameter), so whatever they need
beyond those arguments is reached here; each backend's wiring installs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from mus.adapters.events.event_publisher import EventPublisher
from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.job_queue import JobQueue
from mus.core.config import Settings


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

    @classmethod
    async def open(cls, settings: Settings, job_queue: JobQueue) -> JobRuntime:
        """Connect to the database and Redis; tables are created if missing."""
        settings.ensure_directories()
        database = Database(settings.database_url)
        await database.create_tables()
        redis = Redis.from_url(settings.redis_url)
        return cls(
            settings=settings,
            database=database,
            redis=redis,
            events=EventPublisher(redis, settings.event_channel),
            job_queue=job_queue,
            write_lock=WriteLock(redis, grace_seconds=settings.write_lock_grace_seconds),
            covers=CoverStore(settings.covers_dir_path),
        )

    async def close(self) -> None:
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
