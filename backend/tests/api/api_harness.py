"""Test harness for the api: the real app (lifespan included) on real SQLite and Redis.

No worker runs: what a route queued is read back from the streaq queues in Redis. Imported
by the tests as `api_harness` (this folder is on sys.path once its conftest is loaded).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.api.app_state import AppState
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import Track
from mus.main import create_app

from tests.queued_jobs import queued_jobs

API = "/api/v1"
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], within_seconds: float = 10.0) -> T:
    """Poll `check` until it returns something truthy (state kept in Redis or SQLite)."""
    async with asyncio.timeout(within_seconds):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


TEST_KEEPALIVE_SECONDS = 0.2


@dataclass
class Api:
    """A started app, an httpx client on it, and shortcuts to arrange the library."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.mus
        return state

    @property
    def music_dir(self) -> Path:
        return self.settings.music_dir_path

    async def add_track(self, spec: AudioSpec) -> Track:
        """Write a real audio file and index it as the fast scan would."""
        await asyncio.to_thread(write_audio, spec, self.music_dir)
        return await self.index_file(spec.relative_path)

    async def index_file(self, relative_path: str) -> Track:
        """Index a file already in the library (no write, so no watcher event)."""
        path = self.music_dir / relative_path
        metadata = await asyncio.to_thread(read_fast_metadata, path, self.music_dir)
        async with self.state.database.session() as session:
            track, _ = await TrackRepository(session).upsert_fast(metadata)
        return track

    async def track(self, track_id: int) -> Track | None:
        async with self.state.database.session() as session:
            return await TrackRepository(session).get(track_id)

    async def queued(self, queue_name: str) -> list[tuple[str, dict[str, Any]]]:
        """(job, kwargs) waiting on one named queue, in order."""
        return await queued_jobs(self.settings, queue_name)

    def library_files(self) -> list[str]:
        """Every file under the music folder (hidden ones included), relative."""
        return sorted(
            path.relative_to(self.music_dir).as_posix()
            for path in self.music_dir.rglob("*")
            if path.is_file()
        )


@asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, sse_keepalive_seconds=TEST_KEEPALIVE_SECONDS)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://test{API}") as client:
            yield Api(app=app, client=client, settings=settings)


@dataclass
class LiveServer:
    """The app behind a real uvicorn on a free port (SSE needs a streaming transport)."""

    app: FastAPI
    server: uvicorn.Server
    base_url: str

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.mus
        return state


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    app = create_app(settings, sse_keepalive_seconds=TEST_KEEPALIVE_SECONDS)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield LiveServer(app=app, server=server, base_url=f"http://127.0.0.1:{port}{API}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
