"""Start-up and shutdown of the api process, in the order the resources depend on each other.

Start: folders, permissions report, tables, the broker connection (lazy, so the api serves
the library even with Redis down), the event relay, then as background tasks the job outbox
relay, the reconciler of stranded PENDING tracks, the initial scan and the watcher. Shutdown
undoes it in reverse, waiting briefly for the background tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from mus.adapters.events.event_hub import EventHub
from mus.adapters.events.event_publisher import EventPublisher
from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.scanner.cover_store import CoverStore
from mus.api.app_state import AppState, BackgroundWatcher, QueueMonitorFactory, WatcherFactory
from mus.api.library_files import clear_stale_uploads
from mus.api.permissions import check_permissions
from mus.api.schemas import PermissionReport
from mus.api.shutdown_signals import on_shutdown_signal
from mus.api.startup_failure import StartupError
from mus.application.file_operation_reconciler import run_file_operation_reconciler
from mus.application.job_outbox import OutboxRelay
from mus.application.job_queue import JobQueue, JobQueueOpener
from mus.application.library_status import LibraryStatus, WatcherState
from mus.application.pending_reconciler import run_reconciler
from mus.core.broker_preflight import BrokerRefusedError, mask_url, refuse_unfit_broker
from mus.core.config import Settings
from mus.core.logging_setup import configure_logging

logger = logging.getLogger(__name__)

REDIS_CONNECT_TIMEOUT_SECONDS = 2.0
REDIS_HEALTH_CHECK_SECONDS = 30
WATCHER_STOP_TIMEOUT_SECONDS = 5.0


def prepare_folders(settings: Settings) -> PermissionReport:
    """Create the data folders, turning a permission problem into a clear start-up error."""
    try:
        settings.ensure_directories()
    except OSError as exc:
        message = (
            f"cannot create the data folders under {settings.data_dir_path} "
            f"(music: {settings.music_dir_path}): {exc}. Check DATA_DIR_PATH / MUSIC_DIR_PATH "
            "and that this user may write there"
        )
        raise StartupError(message) from exc
    report = check_permissions(settings)
    for problem in report.problems:
        logger.error("permissions: %s", problem)
    try:
        removed = clear_stale_uploads(settings.music_dir_path)
    except OSError as exc:
        logger.warning("could not clear stale uploads: %s", exc)
    else:
        if removed:
            logger.info("removed %d unfinished upload(s) left by a crash", removed)
    return report


async def open_database(settings: Settings) -> Database:
    database = Database.from_settings(settings)
    try:
        await database.create_tables()
    except Exception as exc:
        await database.dispose()
        message = f"cannot open the database {settings.database_url}: {exc}"
        raise StartupError(message) from exc
    return database


async def refuse_unfit_broker_at_startup(settings: Settings) -> None:
    """A broker without Functions (DragonflyDB) or older than 7 stops the api with a sentence.

    A broker that is down does not: the api serves the library and answers 503 meanwhile.
    """
    try:
        await refuse_unfit_broker(settings.redis_url, allow_unreachable=True)
    except BrokerRefusedError as exc:
        message = f"mus api not started: {exc}"
        raise StartupError(message) from None


async def _initial_scan(
    database: Database, settings: Settings, job_queue: JobQueue, status: LibraryStatus
) -> None:
    from mus.application.initial_scan import run_initial_scan

    try:
        await run_initial_scan(database, settings, job_queue, status=status)
    except asyncio.CancelledError:
        logger.info("initial scan interrupted by shutdown; the next start resumes it")
        raise
    except Exception:
        logger.exception("initial scan failed; the library may be incomplete until a rescan")


async def _watch(
    watcher: BackgroundWatcher, stop_event: asyncio.Event, status: LibraryStatus
) -> None:
    try:
        await watcher.run(stop_event)
    except asyncio.CancelledError:
        raise
    except Exception:
        status.set_watcher(WatcherState.DOWN)
        logger.exception("file watcher stopped; changes on disk are not followed until restart")


# A StartupError is not logged here: uvicorn prints its message (see startup_failure.py).


class BackgroundServices:
    """The initial scan and the watcher: started after the app state, stopped before it."""

    def __init__(self) -> None:
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(coroutine, name=name))

    async def stop(self) -> None:
        self.stop_event.set()
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=WATCHER_STOP_TIMEOUT_SECONDS)
            for task in still_running:
                task.cancel()
            for task in still_running:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan: builds `app.state.mus` (AppState) and tears it down."""
    settings: Settings = app.state.settings
    if not logging.getLogger().handlers:
        # Under uvicorn only its own loggers are set up; mus's lines would go nowhere.
        configure_logging(settings.log_level)
    permissions = prepare_folders(settings)
    await refuse_unfit_broker_at_startup(settings)
    database = await open_database(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(database.dispose)
        opener: JobQueueOpener = app.state.job_queue_opener
        job_queue = await stack.enter_async_context(opener(settings))
        redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
            health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
        )
        stack.push_async_callback(redis.aclose)
        hub = EventHub(redis, settings.event_channel)
        hub.start()
        stack.push_async_callback(hub.stop)
        state = AppState(
            settings=settings,
            database=database,
            job_queue=job_queue,
            redis=redis,
            write_lock=WriteLock(redis, grace_seconds=settings.write_lock_grace_seconds),
            event_hub=hub,
            events=EventPublisher(redis, settings.event_channel),
            covers=CoverStore.from_settings(settings),
            startup_permissions=permissions,
            sse_keepalive_seconds=app.state.sse_keepalive_seconds,
        )
        monitor_factory: QueueMonitorFactory | None = getattr(
            app.state, "queue_monitor_factory", None
        )
        if monitor_factory is not None:
            state.queue_monitor = monitor_factory(job_queue)
        app.state.mus = state
        stack.callback(setattr, app.state, "mus", None)
        background = BackgroundServices()
        stack.push_async_callback(background.stop)
        relay = OutboxRelay(database, job_queue)
        background.start("outbox-relay", relay.run(background.stop_event))
        if settings.reconcile_seconds > 0:
            background.start(
                "reconciler",
                run_reconciler(database, relay, background.stop_event, settings.reconcile_seconds),
            )
            background.start(
                "file-operation-reconciler",
                run_file_operation_reconciler(
                    database,
                    relay,
                    settings.music_dir_path,
                    background.stop_event,
                    settings.reconcile_seconds,
                ),
            )
        if settings.initial_scan_enabled:
            background.start(
                "initial-scan",
                _initial_scan(database, settings, job_queue, state.library_status),
            )
        if settings.watcher_enabled:
            make_watcher: WatcherFactory = app.state.watcher_factory
            watcher = make_watcher(state)
            state.watcher_ready = watcher.ready
            state.library_status.set_watcher(WatcherState.RESTARTING)  # until its watch is up
            background.start(
                "library-watcher", _watch(watcher, background.stop_event, state.library_status)
            )
        logger.info(
            "mus api ready: music %s, data %s, broker %s",
            settings.music_dir_path,
            settings.data_dir_path,
            mask_url(settings.redis_url),
        )
        with on_shutdown_signal(hub.end_streams):
            yield
