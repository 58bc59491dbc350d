"""Everything a request handler may use, built once by the lifespan and kept on `app.state`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from mus.application.job_queue import JobQueue
from mus.core.config import Settings
from mus.infrastructure.api.schemas import PermissionReport
from mus.infrastructure.events.event_hub import EventHub
from mus.infrastructure.events.event_publisher import EventPublisher
from mus.infrastructure.persistence.database import Database
from mus.infrastructure.scanner.cover_store import CoverStore
from mus.infrastructure.write_lock import WriteLock

DEFAULT_SSE_KEEPALIVE_SECONDS = 15.0


@dataclass(slots=True)
class AppState:
    """The api process's shared resources; one per running app."""

    settings: Settings
    database: Database
    job_queue: JobQueue
    redis: Redis
    write_lock: WriteLock
    event_hub: EventHub
    events: EventPublisher
    covers: CoverStore
    startup_permissions: PermissionReport
    sse_keepalive_seconds: float = DEFAULT_SSE_KEEPALIVE_SECONDS
    watcher_ready: asyncio.Event | None = None
    """Set while the file watcher's OS watch is in place; None when the watcher is off."""
