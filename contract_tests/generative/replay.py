"""One history on one backend: a fresh World, the actions resolved and run, one document.

The document is the transcript (the world calls made, with the api's answers) beside the
recording the contract suite takes, so two backends are compared on both.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from mus.adapters.persistence.track_repository import TrackRepository

from generative.actions import DrainAll, History, LibraryView
from generative.invariants import audio_files, folders, invariant_problems
from generative.steps import Drain, OneJobAtATime
from harness.queue_backends import backend_by_name
from harness.sabotage import SABOTAGE_ENV
from harness.sabotage import apply as apply_sabotage
from harness.world import World, open_world

REDIS_URL_ENV = "MUS_CONTRACT_FUZZ_REDIS_URLS"
CONTRACT_REDIS_URL_ENV = "MUS_CONTRACT_REDIS_URL"
DEFAULT_CONTRACT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_DATABASES = (6, 7)  # 9: end-to-end tests, 12: api fuzzer, 13 and 14: the suites


def redis_urls() -> dict[str, str]:
    """The arq world's Redis database and the streaq world's: two, so no run sees the other.

    `MUS_CONTRACT_FUZZ_REDIS_URLS=arq-url,streaq-url`; by default databases 6 and 7 of the
    contract suite's Redis (`MUS_CONTRACT_REDIS_URL`, else the local one).
    """
    configured = os.environ.get(REDIS_URL_ENV)
    if configured:
        arq_url, streaq_url = configured.split(",")
        return {"arq": arq_url.strip(), "streaq": streaq_url.strip()}
    base = urlsplit(os.environ.get(CONTRACT_REDIS_URL_ENV, DEFAULT_CONTRACT_REDIS_URL))
    arq_db, streaq_db = DEFAULT_DATABASES
    return {
        "arq": urlunsplit(base._replace(path=f"/{arq_db}")),
        "streaq": urlunsplit(base._replace(path=f"/{streaq_db}")),
    }


@dataclass(slots=True)
class Run:
    """What one backend made of one history."""

    backend: str
    transcript: list[str] = field(default_factory=list)
    recording: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    actions_run: int = 0

    @property
    def document(self) -> dict[str, Any]:
        return {"transcript": self.transcript, **self.recording}

    @property
    def jobs(self) -> int:
        return len(self.recording.get("jobs", []))


async def look(world: World, ordinal: int = 0) -> LibraryView:
    async with world.database.session() as session:
        rows = await TrackRepository(session).list_tracks()
    tracks = sorted((row.file_path, row.processing_status.value) for row in rows)
    return LibraryView(audio_files(world.music), folders(world.music), tuple(tracks), ordinal)


async def _play(world: World, history: History, run: Run) -> None:
    if history.one_at_a_time:
        one_at_a_time = OneJobAtATime()
        await one_at_a_time.run(world)
        run.transcript += one_at_a_time.render()
    for number, action in enumerate(history.actions, start=1):
        steps = action.steps(await look(world, number))
        run.transcript.append(
            f"# {number}. {action!r}" if steps else f"# {number}. (no-op) {action!r}"
        )
        for step in steps:
            await step.run(world)
            run.transcript += step.render()
        run.actions_run += 1
        if isinstance(action, DrainAll):
            run.problems += [f"after action {number}: {p}" for p in await invariant_problems(world)]
    final = Drain()
    await final.run(world)
    run.problems += [f"after the final drain: {p}" for p in await invariant_problems(world)]
    run.recording = await world.record()


async def run_history(history: History, backend_name: str, redis_url: str | None = None) -> Run:
    """A fresh World on `backend_name` (its own Redis database and temp folder) runs it."""
    run = Run(backend_name)
    url = redis_url or redis_urls()[backend_name]
    with (
        tempfile.TemporaryDirectory(prefix=f"mus-fuzz-{backend_name}-") as temp,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        sabotage = os.environ.get(SABOTAGE_ENV)
        if sabotage:
            apply_sabotage(sabotage, monkeypatch)
        backend = backend_by_name(backend_name)
        async with open_world(backend, Path(temp), url, monkeypatch) as world:
            await _play(world, history, run)
    return run
