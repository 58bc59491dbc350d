"""The api process: `uvicorn mus.main:app`. `create_app(settings)` builds one for tests.

The composition root of the api: it picks the queue backend (streaq) and the file watcher
the api runs beside its routes, so the HTTP adapter itself names neither.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from mus.adapters.queue.streaq_job_queue import open_job_queue
from mus.adapters.queue.streaq_operator import mount_streaq_ui, streaq_queue_monitor
from mus.api.access_log import install_access_log_redaction
from mus.api.app_state import (
    DEFAULT_SSE_KEEPALIVE_SECONDS,
    AppState,
    BackgroundWatcher,
    QueueMonitorFactory,
    WatcherFactory,
)
from mus.api.error_handlers import install_error_handlers
from mus.api.lifespan import lifespan
from mus.api.openapi_document import build_openapi
from mus.api.page_auth import require_page_key
from mus.api.router import API_PREFIX, api_router
from mus.api.routes.docs import OPENAPI_PATH
from mus.api.routes.docs import page_router as docs_page_router
from mus.api.startup_failure import StartupFailureReporter
from mus.application.job_queue import JobQueueOpener
from mus.core.config import AppEnv, Settings, get_settings
from mus.web.pages import mount_web_pages

QUEUE_UI_PATH = "/admin/queue"
"""Where streaq's own queue, task and worker pages are mounted (the operator's view links
to them)."""

DESCRIPTION = (
    "Self-hosted music library: tracks, streaming with HTTP Range, covers, upload, tag "
    "editing, deletion, an errors view with requeue, player state and live updates (SSE). "
    "When the server sets SECRET_KEY, send it as `Authorization: Bearer <key>` "
    "(or `?token=<key>` on GET/HEAD of streams, covers and the live updates, for <audio>, "
    "<img> and EventSource; `/docs?token=<key>` for this page)."
)


def library_watcher(state: AppState) -> BackgroundWatcher:
    """The file watcher on the app's music folder, enqueueing through the app's job queue.

    When the folder disappears and comes back, it runs the start-up scan again.
    """
    from mus.application.initial_scan import run_initial_scan
    from mus.watcher.library_watcher import LibraryWatcher  # only when the watcher is on

    async def rescan() -> None:
        await run_initial_scan(
            state.database, state.settings, state.job_queue, status=state.library_status
        )

    return LibraryWatcher(
        state.settings.music_dir_path,
        state.job_queue,
        state.write_lock,
        state.database,
        status=state.library_status,
        rescan=rescan,
        batch_files=state.settings.watcher_batch_files,
    )


def create_app(
    settings: Settings | None = None,
    *,
    sse_keepalive_seconds: float = DEFAULT_SSE_KEEPALIVE_SECONDS,
    job_queue_opener: JobQueueOpener = open_job_queue,
    watcher_factory: WatcherFactory = library_watcher,
    queue_monitor_factory: QueueMonitorFactory = streaq_queue_monitor,
) -> FastAPI:
    """A new app bound to `settings` (the environment's by default); nothing starts until
    its lifespan runs, so building one does no I/O. `job_queue_opener` picks the queue
    backend (the contract suite passes each backend's own); the web player is served at `/`,
    the operator's view at `/admin` with streaq's own pages under `/admin/queue`."""
    settings = settings or get_settings()
    is_production = settings.app_env is AppEnv.PRODUCTION
    app = FastAPI(
        title="mus",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url=None,  # served by mus.api.routes.docs, behind the key
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sse_keepalive_seconds = sse_keepalive_seconds
    app.state.job_queue_opener = job_queue_opener
    app.state.watcher_factory = watcher_factory
    app.state.queue_monitor_factory = queue_monitor_factory
    app.state.mus = None
    app.state.openapi_path = f"{API_PREFIX}{OPENAPI_PATH}"
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    app.add_middleware(StartupFailureReporter)
    app.include_router(api_router, prefix=API_PREFIX)
    if not is_production:
        app.include_router(docs_page_router)
    install_access_log_redaction()
    mount_streaq_ui(app, QUEUE_UI_PATH, [Depends(require_page_key)])
    mount_web_pages(app)
    return app


app = create_app()
