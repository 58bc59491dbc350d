"""The operator's view in figures: broker, queue depth and workers, watcher, parity report.

streaq's own pages (queue, task, workers) are mounted beside these by the entry point; these
routes add what only mus knows and what the browser page `/admin` draws.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from mus.adapters.folder_space import MIB, FolderSpace, measure_folders
from mus.adapters.persistence.track_repository import TrackRepository
from mus.api.admin_schemas import (
    AdminFigures,
    BrokerFigures,
    FolderFigures,
    ParityReport,
    StorageFigures,
    WatcherState,
)
from mus.api.app_state import AppState
from mus.api.deps import AppStateDep
from mus.api.schemas import ErrorDetail
from mus.core.broker_preflight import BrokerUnavailableError, probe_broker
from mus.core.broker_refusal import write_refusal
from mus.core.queue_figures import QueueFigures

router = APIRouter(prefix="/admin", tags=["admin"])

BROKER_PROBE_SECONDS = 1.0


def mus_version() -> str:
    try:
        return version("mus")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def watcher_state(state: AppState) -> WatcherState:
    if state.watcher_ready is None:
        return WatcherState.OFF
    return WatcherState.WATCHING if state.watcher_ready.is_set() else WatcherState.STARTING


async def _queue(state: AppState) -> tuple[QueueFigures | None, str | None]:
    if state.queue_monitor is None:
        return None, "this queue backend offers no figures"
    try:
        return await state.queue_monitor.figures(), None
    except BrokerUnavailableError as exc:
        return None, str(exc)


async def _tracks_by_status(state: AppState) -> dict[str, int]:
    async with state.database.session() as session:
        return await TrackRepository(session).count_by_status()


def _folder_figures(space: FolderSpace) -> FolderFigures:
    def mib(value: int | None) -> float | None:
        return None if value is None else round(value / MIB, 1)

    return FolderFigures(
        path=space.path,
        free_mb=mib(space.free_bytes),
        total_mb=mib(space.total_bytes),
        state=space.state,
    )


async def _storage(state: AppState) -> StorageFigures:
    (data, music), busy = await asyncio.gather(
        asyncio.to_thread(measure_folders, state.settings), _database_busy(state)
    )
    return StorageFigures(
        data=_folder_figures(data),
        music=_folder_figures(music),
        warning_mb=state.settings.free_space_warning_mb,
        database_busy=busy,
    )


async def _database_busy(state: AppState) -> bool:
    try:
        return await asyncio.wait_for(state.database.is_busy(), BROKER_PROBE_SECONDS * 2)
    except Exception:  # cannot take the lock at all (read-only data folder): as good as busy
        return True


def parity_report(state: AppState) -> ParityReport:
    path = state.settings.parity_report_path.resolve()
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.is_file() else None
    except OSError:
        modified = None
    return ParityReport(path=str(path), exists=modified is not None, modified_at=modified)


@router.get("/figures", response_model=AdminFigures)
async def admin_figures(state: AppStateDep) -> AdminFigures:
    """A snapshot for `/admin`: never fails for a broker that is down, it says so instead."""
    url = state.settings.redis_url
    broker, refusal, (queue, queue_problem), tracks, storage = await asyncio.gather(
        probe_broker(url, timeout=BROKER_PROBE_SECONDS),
        write_refusal(url, timeout=BROKER_PROBE_SECONDS),
        _queue(state),
        _tracks_by_status(state),
        _storage(state),
    )
    return AdminFigures(
        version=mus_version(),
        broker=BrokerFigures(
            url=broker.url,
            reachable=broker.reachable,
            product=broker.product if broker.reachable else None,
            problem=broker.problem() or refusal,
        ),
        queue=queue,
        queue_problem=queue_problem,
        watcher=watcher_state(state),
        tracks_by_status=tracks,
        storage=storage,
        parity_report=await asyncio.to_thread(parity_report, state),
    )


@router.get(
    "/parity-report",
    response_class=FileResponse,
    responses={
        status.HTTP_200_OK: {"content": {"text/html": {"schema": {"type": "string"}}}},
        status.HTTP_404_NOT_FOUND: {"model": ErrorDetail, "description": "No report yet"},
    },
)
async def get_parity_report(state: AppStateDep) -> FileResponse:
    """The latest parity page of the contract suite, as the cutover gate wrote it."""
    report = await asyncio.to_thread(parity_report, state)
    if not report.exists:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no parity report at {report.path} (run `make cutover-gate` to write one)",
        )
    return FileResponse(report.path, media_type="text/html; charset=utf-8")
