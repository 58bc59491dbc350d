"""One measurement's world: a new data folder, an empty Redis database, the children's
environment, and the wait-until loop that also watches the processes it waits on."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from benchmarks.worker_processes import ProcessSet
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.core.config import Settings, get_settings
from mus.domain.track import ProcessingStatus

CONTRACT_ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.05
SETTINGS_ENV = ("DATA_DIR_PATH", "REDIS_URL", "MUSIC_DIR_PATH", "DRAGONFLY_URL", "LOG_LEVEL")


@dataclass(frozen=True, slots=True)
class World:
    settings: Settings
    env: dict[str, str]
    """What a deployment gives the api and the workers (like `mus run`'s children)."""
    log_dir: Path
    broker: aioredis.Redis
    database: Database

    async def tracks(self, *statuses: ProcessingStatus) -> int:
        """Tracks in the database, of these statuses (all when none is given)."""
        async with self.database.session() as session:
            repository = TrackRepository(session)
            if not statuses:
                return await repository.count()
            return sum([await repository.count(status=status) for status in statuses])

    async def analysed(self) -> int:
        return await self.tracks(ProcessingStatus.COMPLETE, ProcessingStatus.ERROR)


@asynccontextmanager
async def fresh_world(redis_url: str) -> AsyncIterator[World]:
    """A new data folder and a flushed Redis database (flushed again on the way out)."""
    with tempfile.TemporaryDirectory(prefix="mus-queue-bench-") as tmp:
        saved = {name: os.environ.get(name) for name in SETTINGS_ENV}
        os.environ.pop("MUSIC_DIR_PATH", None)
        os.environ.pop("DRAGONFLY_URL", None)
        os.environ.update(
            DATA_DIR_PATH=str(Path(tmp) / "data"),
            REDIS_URL=redis_url,
            # BENCH_LOG_LEVEL=INFO keeps the processes' INFO lines in the world's logs/ (a
            # run killed with SIGKILL leaves its temporary folder behind to read them).
            LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        )
        get_settings.cache_clear()
        broker = aioredis.Redis.from_url(redis_url, decode_responses=True)
        await broker.flushdb()
        settings = get_settings()
        settings.ensure_directories()
        env = dict(os.environ)
        env.update(
            DATA_DIR_PATH=str(settings.data_dir_path.resolve()),
            MUSIC_DIR_PATH=str(settings.music_dir_path),
            PYTHONUNBUFFERED="1",
        )
        log_dir = Path(tmp) / "logs"
        log_dir.mkdir()
        database = Database.from_settings(settings)
        await database.create_tables()
        try:
            yield World(settings, env, log_dir, broker, database)
        finally:
            await database.dispose()
            await broker.flushdb()
            await broker.aclose()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()


async def until(
    check: Callable[[], Awaitable[bool]],
    timeout_seconds: float,
    what: str,
    watched: Sequence[ProcessSet] = (),
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Poll `check`; fail when it is late or when a watched process has died meanwhile."""
    deadline = time.monotonic() + timeout_seconds
    while not await check():
        for processes in watched:
            processes.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout_seconds:.0f}s")
        await asyncio.sleep(poll_seconds)
