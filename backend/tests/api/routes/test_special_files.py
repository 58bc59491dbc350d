"""A FIFO (or a vanished file) where a track or a cover was never blocks the server.

Before, the open of a FIFO blocked a thread of the pool the request dependencies shared:
~45 stream requests on one left the healthcheck, /tracks and covers hanging. A real FIFO
and a real uvicorn here; the FIFO's stuck readers (if any) are released at the end.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import Api, live_server

from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec

STREAMS = 50


def release_readers(fifo: Path, within_seconds: float = 5.0) -> None:
    """Open the FIFO for writing and close it until no reader waits on it (EOF for them)."""
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ENXIO, errno.ENOENT):
                return  # nobody is reading: nothing is stuck
            raise
        os.close(descriptor)
        time.sleep(0.05)


@pytest.fixture
def fifo_cleanup() -> Iterator[list[Path]]:
    fifos: list[Path] = []
    yield fifos
    for fifo in fifos:
        release_readers(fifo)
        fifo.unlink(missing_ok=True)


def replace_with_fifo(path: Path, fifos: list[Path]) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    fifos.append(path)


async def test_healthcheck_answers_while_50_streams_hit_a_fifo(
    settings: Settings, fifo_cleanup: list[Path]
) -> None:
    music = settings.music_dir_path
    await asyncio.to_thread(write_audio, AudioSpec("f.mp3", "mp3", title="Fifo"), music)
    metadata = await asyncio.to_thread(read_fast_metadata, music / "f.mp3", music)
    async with live_server(settings) as server:
        async with server.state.database.session() as session:
            track, _ = await TrackRepository(session).upsert_fast(metadata)
        replace_with_fifo(music / "f.mp3", fifo_cleanup)
        limits = httpx.Limits(max_connections=STREAMS + 10)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10, limits=limits) as client:
            streams = [
                asyncio.create_task(client.get(f"/tracks/{track.id}/stream"))
                for _ in range(STREAMS)
            ]
            await asyncio.sleep(0.3)  # let them all reach the open
            # Before the fix these hung for as long as the FIFO had no writer (for ever); 3 s
            # tells that apart from a slow answer on two cores shared with make test's other
            # processes (1 s failed there once at 1.05 s).
            started = time.monotonic()
            health = await client.get("/healthcheck", timeout=3.0)
            assert time.monotonic() - started < 3.0
            assert health.status_code == 200
            listing = await client.get("/tracks", timeout=3.0)
            assert listing.status_code == 200
            async with asyncio.timeout(5):
                answers = await asyncio.gather(*streams)
        for answer in answers:
            assert answer.status_code == 409
            assert answer.headers["content-type"] == "application/json"
            assert "not a regular file" in answer.json()["detail"]


async def test_a_cover_replaced_by_a_fifo_is_409(api: Api, fifo_cleanup: list[Path]) -> None:
    track = await api.add_track(AudioSpec("c.mp3", "mp3", title="Covered"))
    cover = api.state.covers.path(track.id, "small")
    cover.parent.mkdir(parents=True, exist_ok=True)
    replace_with_fifo(cover, fifo_cleanup)
    async with asyncio.timeout(5):
        response = await api.client.get(f"/tracks/{track.id}/covers/small")
    assert response.status_code == 409
    assert "not a regular file" in response.json()["detail"]


async def test_a_vanished_file_is_a_json_404(api: Api) -> None:
    track = await api.add_track(AudioSpec("v.mp3", "mp3", title="Vanished"))
    (api.music_dir / "v.mp3").unlink()
    for method in ("GET", "HEAD"):
        response = await api.client.request(method, f"/tracks/{track.id}/stream")
        assert response.status_code == 404
    assert "missing" in (await api.client.get(f"/tracks/{track.id}/stream")).json()["detail"]


async def test_a_symlink_loop_in_place_of_a_track_is_not_a_500(api: Api) -> None:
    track = await api.add_track(AudioSpec("l.mp3", "mp3", title="Looped"))
    path = api.music_dir / "l.mp3"
    path.unlink()
    (api.music_dir / "m.mp3").symlink_to(path)
    path.symlink_to(api.music_dir / "m.mp3")
    response = await api.client.get(f"/tracks/{track.id}/stream")
    assert response.status_code == 409
    assert "symlink loop" in response.json()["detail"]
