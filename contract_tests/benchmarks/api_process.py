"""The real api of a backend (`uvicorn` on `deployment.api_target()`, file watcher on), for
the rows that need mus's own watcher to see files arrive, and its readiness signal.

The api is the watcher's process: on arq it is `benchmarks.arq_bench_api:app` (the api
enqueueing on the baseline), on streaq `mus.main:app`. Ready means its healthcheck answers
200 with `watcher: ok`, which the watcher reports once its OS watch is in place.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from benchmarks.bench_world import CONTRACT_ROOT, World, until
from benchmarks.deployments import Deployment
from benchmarks.worker_processes import ProcessSet, process_set
from mus.api.router import API_PREFIX

HEALTH_PATH = API_PREFIX + "/healthcheck"
HEALTH_TIMEOUT_SECONDS = 5.0
WATCHING_POLL_SECONDS = 0.2


def free_port() -> int:
    """A TCP port nothing listens on now, for one api process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_argv(deployment: Deployment, port: int) -> list[str]:
    """uvicorn serving the backend's own api app, quiet but for warnings."""
    return [
        sys.executable, "-m", "uvicorn", deployment.api_target(),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ApiProcess:
    """One running api: its process set (stopped on leaving) and where it answers."""

    processes: ProcessSet
    base_url: str


@asynccontextmanager
async def api_process(
    deployment: Deployment, world: World, *, initial_scan: bool = True
) -> AsyncIterator[ApiProcess]:
    """The backend's api with the file watcher on, as `mus run` starts it; stopped on leaving
    (normally or by an exception), like every process of the bench."""
    port = free_port()
    env = dict(world.env, PORT=str(port), MUS_WATCHER_ENABLED="true")
    env.update(MUS_INITIAL_SCAN_ENABLED="true" if initial_scan else "false")
    async with process_set(
        f"{deployment.name}-api",
        [api_argv(deployment, port)],
        env=env,
        cwd=CONTRACT_ROOT,
        log_dir=world.log_dir,
    ) as processes:
        yield ApiProcess(processes, f"http://127.0.0.1:{port}")


async def watcher_is_watching(client: httpx.AsyncClient) -> bool:
    """Whether the healthcheck answers 200 and says the watcher's OS watch is in place."""
    try:
        response = await client.get(HEALTH_PATH)
    except httpx.TransportError:  # not listening yet
        return False
    return response.status_code == 200 and response.json().get("watcher") == "ok"


async def until_watching(
    api: ApiProcess, timeout_seconds: float, watched: Sequence[ProcessSet]
) -> None:
    """Wait for the api's own readiness signal (not a fixed sleep); fails if a process dies."""
    async with httpx.AsyncClient(base_url=api.base_url, timeout=HEALTH_TIMEOUT_SECONDS) as client:
        await until(
            lambda: watcher_is_watching(client),
            timeout_seconds,
            f"{api.processes.name}: watcher watching",
            watched,
            WATCHING_POLL_SECONDS,
        )
