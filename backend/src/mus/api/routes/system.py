"""Operations endpoints: health for load balancers and supervisors, permissions for admins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Response, status

from mus.api.deps import AppStateDep
from mus.api.permissions import check_permissions
from mus.api.schemas import ComponentHealth, HealthReport, PermissionReport

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


@health_router.get(
    "/healthcheck",
    response_model=HealthReport,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthReport}},
)
async def healthcheck(state: AppStateDep, response: Response) -> HealthReport:
    """200 when the database and the broker answer, else 503 naming the one that did not."""
    database, broker = await asyncio.gather(
        _probe("database", state.database.ping()), _probe("broker", state.redis.ping())
    )
    report = HealthReport(database=database, broker=broker)
    if ComponentHealth.ERROR in (database, broker):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report


@router.get("/permissions", response_model=PermissionReport)
async def permissions(state: AppStateDep) -> PermissionReport:
    """Whether the music folder is readable and data, covers and database are writable."""
    return await asyncio.to_thread(check_permissions, state.settings)
