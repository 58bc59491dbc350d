"""Operations endpoints: health for load balancers and supervisors, permissions for admins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Response, status

from mus.adapters.folder_space import measure_folders
from mus.api.app_state import AppState
from mus.api.broker_health import broker_answers_and_writes
from mus.api.deps import AppStateDep
from mus.api.permissions import check_permissions
from mus.api.schemas import (
    ComponentHealth,
    DatabaseHealth,
    HealthReport,
    LibraryHealth,
    PermissionReport,
    WatcherHealth,
)

logger = logging.getLogger(__name__)

health_router = APIRouter(tags=["system"])
router = APIRouter(tags=["system"])

HEALTH_TIMEOUT_SECONDS = 2.0


async def _probe(name: str, check: Awaitable[object]) -> ComponentHealth:
    try:
        await asyncio.wait_for(check, HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure is "error"; the reason goes to the log
        logger.warning("healthcheck: %s is down: %s", name, exc)
        return ComponentHealth.ERROR
    return ComponentHealth.OK


async def _database_health(state: AppState) -> DatabaseHealth:
    """error when it cannot answer a read; busy when another process holds its write lock."""
    if await _probe("database", state.database.ping()) is ComponentHealth.ERROR:
        return DatabaseHealth.ERROR
    try:
        busy = await asyncio.wait_for(state.database.is_busy(), HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:  # readable but not lockable: a read-only data folder, say
        logger.warning("healthcheck: the database cannot take its write lock: %s", exc)
        return DatabaseHealth.BUSY
    return DatabaseHealth.BUSY if busy else DatabaseHealth.OK


@health_router.get(
    "/healthcheck",
    response_model=HealthReport,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthReport}},
)
async def healthcheck(state: AppStateDep, response: Response) -> HealthReport:
    """200 when the database answers, the broker answers and takes writes (one out of memory
    answers PING but refuses them), and the watcher is not stuck; else 503.

    Also says whether the library root looked unmounted at the last scan, whether another
    process holds the database (`busy`), and how the data and music folders stand (low on
    space, full, read-only): 200 still, the library is served and writes are retried.
    """
    database, broker, (data_folder, music_folder) = await asyncio.gather(
        _database_health(state),
        _probe("broker", broker_answers_and_writes(state.redis)),
        asyncio.to_thread(measure_folders, state.settings),
    )
    library = state.library_status
    report = HealthReport(
        database=database,
        broker=broker,
        library=LibraryHealth.UNMOUNTED if library.root_looks_unmounted else LibraryHealth.OK,
        watcher=WatcherHealth(library.watcher.value),
        data_folder=data_folder.state,
        music_folder=music_folder.state,
    )
    watcher_stuck = library.watcher_unhealthy_for() > state.settings.watcher_grace_seconds
    if database is DatabaseHealth.ERROR or broker is ComponentHealth.ERROR or watcher_stuck:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report


@router.get("/permissions", response_model=PermissionReport)
async def permissions(state: AppStateDep) -> PermissionReport:
    """Whether the music folder is readable and data, covers and database are writable."""
    return await asyncio.to_thread(check_permissions, state.settings)
