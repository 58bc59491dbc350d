"""Everything a request handler may use, built once by the lifespan and kept on `app.state`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from mus.adapters.events.event_hub import EventHub
from mus.adapters.events.event_publisher import EventPublisher
from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.scanner.cover_store import CoverStore
from mus.api.schemas import PermissionReport
from mus.application.job_queue import JobQueue
from mus.application.library_status import LibraryStatus
from mus.core.config import Settings
from mus.core.queue_figures import QueueFigures

DEFAULT_SSE_KEEPALIVE_SECONDS = 15.0


class BackgroundWatcher(Protocol):
    """What the api runs beside its routes to follow the music folder (the file watcher)."""

    ready: asyncio.Event

    async def run(self, stop_event: asyncio.Event) -> None:
        """Watch until `stop_event` is set; `ready` is set while the OS watch is in place."""
        ...


WatcherFactory = Callable[["AppState"], BackgroundWatcher]
"""Builds the watcher from the app state; the entry point (`mus.main`) supplies it."""


class QueueMonitor(Protocol):
    """Reads the job queue's figures for the operator's view (the queue backend's wiring)."""

    async def figures(self) -> QueueFigures:
        """One reading; raises BrokerUnavailableError when the broker is away."""
        ...


QueueMonitorFactory = Callable[[JobQueue], "QueueMonitor | None"]
"""The monitor of a job queue, or None when its backend offers none; from the entry point."""


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
    library_status: LibraryStatus = field(default_factory=LibraryStatus)
    """The music folder's health (root unmounted? watcher state?) for the healthcheck."""
    watcher_ready: asyncio.Event | None = None
    """Set while the file watcher's OS watch is in place; None when the watcher is off."""
    queue_monitor: QueueMonitor | None = None
    """Reads the queue's figures for `/admin`; None when the backend has no monitor."""
