"""A real process killed (SIGKILL) at one point of a change to a user's file.

`python -m tests.crash_point SCENARIO TRACK_ID [ARG]` runs the real route or job on the
settings in the environment, with one step wrapped so the process kills itself just before
or just after it: nothing after that point runs, no `finally`, no exit handler, exactly as
when the OOM killer or a power cut strikes. The test then looks at what is left and runs
the reconciler. Scenarios:

- `tag-edit-before-rename TRACK_ID TITLE`: PATCH through the api; killed once the copy
  holds the new tags, before it is renamed over the file.
- `tag-edit-after-rename TRACK_ID TITLE`: killed right after the rename, before the row.
- `delete-after-unlink TRACK_ID`: the delete job, killed after the file is gone, before the row.
- `rename-after-rename TRACK_ID NEW_PATH`: the rename job, killed after the file moved,
  before the row.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import mus.api.routes.tracks as track_routes
import mus.jobs.file_system_jobs as file_jobs
from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.core.config import get_settings
from mus.jobs.runtime import JobRuntime, install_job_runtime
from mus.main import create_app

KILLED_EXIT = -signal.SIGKILL


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _tag_edit(track_id: int, title: str, *, before_rename: bool) -> None:
    real = track_routes.replace_with_changed_copy

    def crashing(path: Path, change: Callable[[Path], None], temp_name: str | None = None) -> Any:
        if before_rename:

            def change_then_die(copy: Path) -> None:
                change(copy)
                die()

            return real(path, change_then_die, temp_name)
        real(path, change, temp_name)
        die()
        return None

    track_routes.replace_with_changed_copy = crashing  # type: ignore[assignment]

    async def run() -> None:
        app = create_app(get_settings())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await client.patch(f"/api/v1/tracks/{track_id}", json={"title": title})

    asyncio.run(run())


def _job(coroutine_factory: Callable[[], Any]) -> None:
    async def run() -> None:
        settings = get_settings()
        connection = StreaqConnection(settings)
        await connection.start()
        runtime = await JobRuntime.open(settings, connection)
        install_job_runtime(runtime)
        await coroutine_factory()

    asyncio.run(run())


def _delete_after_unlink(track_id: int) -> None:
    async def killed_instead(*_args: Any) -> None:
        die()

    file_jobs.forget_track = killed_instead  # type: ignore[assignment]
    _job(lambda: file_jobs.delete_track_with_files(track_id))


def _rename_after_rename(track_id: int, new_path: str) -> None:
    real = file_jobs._rename_durably

    def rename_then_die(source: Path, destination: Path) -> None:
        real(source, destination)
        die()

    file_jobs._rename_durably = rename_then_die
    _job(lambda: file_jobs.update_track_path_by_id(track_id, new_path))


def main(argv: list[str]) -> None:
    scenario, track_id, *rest = argv
    if scenario == "tag-edit-before-rename":
        _tag_edit(int(track_id), rest[0], before_rename=True)
    elif scenario == "tag-edit-after-rename":
        _tag_edit(int(track_id), rest[0], before_rename=False)
    elif scenario == "delete-after-unlink":
        _delete_after_unlink(int(track_id))
    elif scenario == "rename-after-rename":
        _rename_after_rename(int(track_id), rest[0])
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    raise SystemExit("the crash point was never reached")


if __name__ == "__main__":
    main(sys.argv[1:])
