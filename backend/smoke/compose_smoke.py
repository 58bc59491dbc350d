"""`make compose-smoke`: the compose stack and the production image, built and run for real.

With podman (installed and configured by docker/base-images/install-podman.sh, base images
from Debian packages by docker/base-images/build.sh, so nothing is pulled) it builds the images,
starts docker/docker-compose.yml on a private port and private volumes (project `mus-smoke`),
and checks what a person would: the healthcheck answers, the player page loads, a file copied
into the music volume becomes COMPLETE through the streaq-worker container, a worker container
killed with SIGKILL comes back by its restart policy and strands nothing, `down` stops every
container within its grace period (none SIGKILLed), and the volumes keep the database and the
covers across `down`/`up`. Then the production image (supervisord: api with the watcher,
streaq workers, Redis) and the development override. Every container, volume and network it
made is removed, also on failure; each step prints its time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from library_api import LibraryApi, audio_files
from podman_calls import PODMAN_COMPOSE, SmokeCheckError, cleanup, inspect, podman, run, wait_for

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
PROJECT = "mus-smoke"
PRODUCTION_IMAGE = "localhost/mus-smoke-production:latest"
COMPOSE_PORT = 18080
PRODUCTION_PORT = 18081
OVERRIDE_PORT = 18082
OVERRIDE_REDIS_PORT = 18379
READY_SECONDS = 180.0
PROCESSED_SECONDS = 180.0
WORKER_GRACE_SECONDS = 30.0  # docker-compose.yml's stop_grace_period for the workers
SIGKILLED = 137
BATCH = 20  # files copied in just before a worker is SIGKILLed
# "never" with the local base images; "missing" with --pull-bases (where a registry answers).
PULL_POLICY = ["never"]


class Steps:
    """Each step's name, time and outcome, printed as it ends and once more at the end."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done: list[tuple[str, float, str]] = []

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        notes: list[str] = []
        began = time.monotonic()
        print(f"--- {name}", flush=True)
        try:
            yield notes
        except BaseException:
            self._end(name, began, "FAILED", notes)
            raise
        self._end(name, began, "ok", notes)

    def _end(self, name: str, began: float, outcome: str, notes: list[str]) -> None:
        seconds = time.monotonic() - began
        self.done.append((name, seconds, outcome))
        detail = f": {'; '.join(notes)}" if notes else ""
        print(f"    {outcome} in {seconds:.1f} s{detail}", flush=True)

    def table(self) -> str:
        lines = [f"{'step':<76} {'seconds':>8}  result"]
        lines += [f"{name:<76} {seconds:8.1f}  {outcome}" for name, seconds, outcome in self.done]
        lines.append(f"{'total':<76} {time.monotonic() - self.started:8.1f}")
        return "\n".join(lines)


class Compose:
    """podman-compose on docker/docker-compose.yml (and any extra files), project mus-smoke."""

    def __init__(self, env: dict[str, str], *extra_files: Path) -> None:
        self.env = env
        self.files = [DOCKER / "docker-compose.yml", *extra_files]

    def __call__(self, *args: str, timeout: float = 600.0) -> str:
        files = [part for path in self.files for part in ("-f", str(path))]
        command = [*PODMAN_COMPOSE, "-p", PROJECT, *files, *args]
        return run(command, env=self.env, cwd=DOCKER, timeout=timeout).stdout

    def container(self, service: str) -> str:
        names = podman(
            "ps", "-a",
            "--filter", f"label=io.podman.compose.project={PROJECT}",
            "--filter", f"label=com.docker.compose.service={service}",
            "--format", "{{.Names}}",
        ).split()  # fmt: skip
        if len(names) != 1:
            raise SmokeCheckError(f"service {service}: containers {names or 'none'}")
        return names[0]

    def containers(self) -> list[str]:
        listing = podman(
            "ps", "-a", "--filter", f"label=io.podman.compose.project={PROJECT}",
            "--format", "{{.Names}}",
        )  # fmt: skip
        return listing.split()


def health_check_passes(container: str) -> bool:
    """The image's or service's own HEALTHCHECK command, run now (podman has no timer here)."""
    return run(["podman", "healthcheck", "run", container], check=False).returncode == 0


def copy_into_music(files: list[Path], container: str) -> list[str]:
    """`podman cp` each file into the container's /music (the volume); their library paths."""
    for path in files:
        podman("cp", str(path), f"{container}:/music/{path.name}")
    return [path.name for path in files]


def copy_folder_into_music(files: list[Path], container: str) -> list[str]:
    """One `podman cp` of the files' folder into /music, as a person copies in an album."""
    folder = files[0].parent
    podman("cp", str(folder), f"{container}:/music/{folder.name}")
    return [f"{folder.name}/{path.name}" for path in files]


def process_names(container: str) -> list[str]:
    return [line.strip() for line in podman("top", container, "args").splitlines()[1:]]


class DiedEvents:
    """`podman events` while containers stop: each container's exit code as it died."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["podman", "events", "--filter", "event=died", "--format", "json"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # podman events is listening from here on

    def exits(self) -> dict[str, tuple[int, datetime]]:
        """Each container that died: its exit code and when."""
        time.sleep(1.0)
        self.process.terminate()
        output, _ = self.process.communicate(timeout=30)
        died = {}
        for line in output.splitlines():
            event: dict[str, Any] = json.loads(line)
            # podman leaves ContainerExitCode out when it is 0.
            code = int(event.get("ContainerExitCode", 0))
            died[event["Name"]] = (code, datetime.fromisoformat(event["Time"]))
        return died


def kill_mid_batch(api: LibraryApi, paths: list[str], kill: Any) -> str:
    """Kill as soon as the batch's first track is listed, with jobs still to do; says how far.

    A kill after the whole batch was done would prove nothing about stranded jobs: fail then."""
    wait_for("the batch's first track", lambda: set(paths) & set(api.tracks_by_path()), 60, 0.1)
    kill()
    by_path = api.tracks_by_path()
    done = sum(
        1
        for path in paths
        if [row["processing_status"] for row in by_path.get(path, [])] == ["COMPLETE"]
    )
    if done == len(paths):
        raise SmokeCheckError(f"the kill came after all {len(paths)} files were COMPLETE")
    return f"with {done} of {len(paths)} copied files COMPLETE"


def stop_within_grace(steps: Steps, name: str, stop: Any, containers: list[str]) -> None:
    """Run `stop()`; fails when it took longer than the workers' grace or SIGKILLed anyone."""
    with steps.step(name) as notes:
        events = DiedEvents()
        began, began_at = time.monotonic(), datetime.now(UTC)
        stop()
        seconds = time.monotonic() - began
        died = events.exits()
        codes = {container: code for container, (code, _) in died.items()}
        notes.append(f"stopped in {seconds:.1f} s")
        notes += [
            f"{container} exit {code} after {(at - began_at).total_seconds():.1f} s"
            for container, (code, at) in sorted(died.items(), key=lambda item: item[1][1])
        ]
        killed = [c for c in containers if codes.get(c) == SIGKILLED]
        missing = [c for c in containers if c not in codes]
        if killed or missing or seconds >= WORKER_GRACE_SECONDS:
            raise SmokeCheckError(
                f"stop took {seconds:.1f} s (grace {WORKER_GRACE_SECONDS:.0f} s); "
                f"SIGKILLed: {killed or 'none'}; no exit seen: {missing or 'none'}"
            )


def compose_checks(steps: Steps, staging: Path) -> None:
    env = {"PORT": str(COMPOSE_PORT), "MUS_BIND_ADDRESS": "127.0.0.1", "LOG_LEVEL": "INFO"}
    compose = Compose(env)
    api = LibraryApi(COMPOSE_PORT)
    with steps.step("compose: build (mus-backend from the local python:3.11-slim)"):
        # One service: podman-compose builds each service that has a `build:` at once, and
        # api and streaq-worker share the image.
        compose("build", "--pull", PULL_POLICY[0], "api", timeout=1200)
    with steps.step(f"compose: up -d on 127.0.0.1:{COMPOSE_PORT}") as notes:
        compose("up", "-d", "--no-build")
        notes.append(", ".join(compose.containers()))
    with steps.step(
        "compose: healthcheck answers (compose's test in api and redis, GET from the host)"
    ) as notes:
        report = wait_for("api healthy", api.healthy, READY_SECONDS)
        api_container = compose.container("api")
        wait_for("the api's compose healthcheck", lambda: health_check_passes(api_container), 60)
        wait_for("redis's healthcheck", lambda: health_check_passes(compose.container("redis")), 60)
        notes.append(json.dumps(report))
    with steps.step("compose: player page loads") as notes:
        notes.append(api.player_page_loads())
    worker = compose.container("streaq-worker")
    with steps.step("compose: a file copied into the music volume becomes COMPLETE") as notes:
        # Through the worker container: while it is stopped the file stays unprocessed (the
        # watcher only enqueues; indexing and analysis are jobs); started, it becomes COMPLETE.
        # (Stopped, not paused: runc's freezer here fails now and then with "unable to freeze".)
        podman("stop", "-t", "30", worker, timeout=60)
        try:
            paths = copy_into_music(audio_files(staging / "one", ["first"]), api_container)
            time.sleep(8.0)
            early = api.tracks_by_path().get(paths[0], [])
            if any(row["processing_status"] == "COMPLETE" for row in early):
                raise SmokeCheckError(f"processed with the worker container stopped: {early}")
        finally:
            podman("start", worker, check=False)
        tracks = wait_for("COMPLETE", lambda: api.all_complete(paths), PROCESSED_SECONDS)
        track = tracks[paths[0]]
        if not track["has_cover"]:
            raise SmokeCheckError(f"{paths[0]}: COMPLETE without its embedded cover: {track}")
        cover = api.cover_bytes(track["id"])
        api_processes = process_names(api_container)
        if any("streaq" in process for process in api_processes):
            raise SmokeCheckError(f"the api container runs a worker itself: {api_processes}")
        notes.append(
            f"track {track['id']} COMPLETE, cover {cover} bytes, none while the worker was stopped"
        )
        notes.append(f"worker processes: {process_names(worker)}")
    with steps.step("compose: worker container SIGKILLed comes back, nothing stranded") as notes:
        before = inspect(worker)
        batch = audio_files(staging / "batch", [f"batch-{n:02}" for n in range(BATCH)])
        paths_killed = copy_folder_into_music(batch, api_container)
        killed_at = kill_mid_batch(
            api, paths_killed, lambda: run(["kill", "-KILL", str(before["State"]["Pid"])])
        )
        notes.append(f"SIGKILLed {worker}'s main process {killed_at}")

        def restarted() -> bool:
            now = inspect(worker)
            return bool(
                now["State"]["Running"]
                and now["State"]["StartedAt"] != before["State"]["StartedAt"]
            )

        wait_for("the worker container restarted by its policy", restarted, 60)
        notes.append(f"restarted (RestartCount {inspect(worker).get('RestartCount')})")
        wait_for(f"all {BATCH} COMPLETE", lambda: api.all_complete(paths_killed), PROCESSED_SECONDS)
        notes.append(f"all {BATCH} COMPLETE, one track each")
    containers = compose.containers()
    stop_within_grace(steps, "compose: down stops everything within the grace period",
                      lambda: compose("down", timeout=120), containers)  # fmt: skip
    with steps.step("compose: up again, database and covers kept in the volumes") as notes:
        compose("up", "-d", "--no-build")
        wait_for("api healthy again", api.healthy, READY_SECONDS)
        kept = api.all_complete([*paths, *paths_killed])
        if kept is None or kept[paths[0]]["id"] != track["id"]:
            raise SmokeCheckError(f"after down/up the tracks are {api.tracks_by_path()}")
        if api.cover_bytes(track["id"]) != cover:
            raise SmokeCheckError("the cover changed across down/up")
        notes.append(f"{len(kept)} tracks kept, cover of track {track['id']} the same")
    with steps.step("compose: --profile dedicated adds streaq-worker-high") as notes:
        compose("--profile", "dedicated", "up", "-d", "--no-build")
        high = compose.container("streaq-worker-high")

        def high_worker_started() -> bool:
            logs = run(["podman", "logs", high]).stderr
            return inspect(high)["State"]["Running"] and "starting worker" in logs

        wait_for("streaq-worker-high started", high_worker_started, READY_SECONDS)
        state = inspect(high)
        if state["RestartCount"]:
            raise SmokeCheckError(f"streaq-worker-high restarted {state['RestartCount']} times")
        environment = {e.split("=", 1)[0]: e.split("=", 1)[1] for e in state["Config"]["Env"]}
        notes.append(f"running, MUS_WORKER_QUEUES={environment.get('MUS_WORKER_QUEUES')}")
    with steps.step("compose: down -v (volumes removed)"):
        compose("--profile", "dedicated", "down", "-v", timeout=120)


def supervised(container: str) -> dict[str, tuple[str, str]]:
    """supervisorctl status inside the production container: program -> (state, pid)."""
    output = run(
        ["podman", "exec", container, "supervisorctl", "-c", "/etc/mus/supervisord.conf", "status"],
        check=False,
    ).stdout
    status = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pid = parts[3].rstrip(",") if len(parts) > 3 and parts[2] == "pid" else ""
            status[parts[0]] = (parts[1], pid)
    return status


def production_checks(steps: Steps, staging: Path) -> None:
    name = f"{PROJECT}-production"
    api = LibraryApi(PRODUCTION_PORT)

    def start() -> None:
        podman(
            "run", "-d", "--name", name, "-p", f"127.0.0.1:{PRODUCTION_PORT}:8000",
            "-v", f"{name}-data:/data", "-v", f"{name}-music:/music", PRODUCTION_IMAGE,
        )  # fmt: skip

    with steps.step("production: build (docker/production/Dockerfile)"):
        run(
            ["podman", "build", f"--pull={PULL_POLICY[0]}", "--format", "docker",
             "-f", "docker/production/Dockerfile", "-t", PRODUCTION_IMAGE, "."],
            cwd=REPO, timeout=1200,
        )  # fmt: skip
    with steps.step(f"production: run on 127.0.0.1:{PRODUCTION_PORT}, HEALTHCHECK passes") as notes:
        start()
        wait_for("production api healthy", api.healthy, READY_SECONDS)
        wait_for("the image's HEALTHCHECK", lambda: health_check_passes(name), 60)
        notes.append(api.player_page_loads())
    with steps.step("production: supervisord runs api, redis and a worker per core") as notes:
        cores = int(podman("exec", name, "nproc"))

        def all_running() -> dict[str, tuple[str, str]] | None:
            status = supervised(name)
            workers = [p for p in status if p.startswith("streaq-worker:")]
            ok = len(workers) == cores and all(state == "RUNNING" for state, _ in status.values())
            return status if ok and "api" in status and "redis" in status else None

        status = wait_for("every program RUNNING", all_running, 90)
        notes.append(", ".join(f"{p} {s}" for p, (s, _) in status.items()))
    with steps.step("production: the watcher sees a copied file, a worker makes it COMPLETE"):
        paths = copy_into_music(audio_files(staging / "production", ["prod-first"]), name)
        wait_for("COMPLETE", lambda: api.all_complete(paths), PROCESSED_SECONDS)
    with steps.step(
        "production: a worker SIGKILLed is restarted by supervisord, nothing stranded"
    ) as notes:
        program = "streaq-worker:streaq-worker-1"
        _, pid = supervised(name)[program]
        batch = audio_files(staging / "production-batch", [f"prod-{n:02}" for n in range(BATCH)])
        more = copy_folder_into_music(batch, name)
        killed_at = kill_mid_batch(
            api, more, lambda: podman("exec", name, "sh", "-c", f"kill -KILL {pid}")
        )  # sh: no procps in the image

        def back() -> bool:
            state, new_pid = supervised(name).get(program, ("", ""))
            return state == "RUNNING" and new_pid not in ("", pid)

        wait_for(f"{program} restarted", back, 60)
        wait_for(f"all {BATCH} COMPLETE", lambda: api.all_complete(more), PROCESSED_SECONDS)
        notes.append(f"pid {pid} killed {killed_at}; RUNNING again, all {BATCH} COMPLETE")
    stop_within_grace(steps, "production: podman stop within the grace period",
                      lambda: podman("stop", "-t", "30", name, timeout=60), [name])  # fmt: skip
    with steps.step("production: start again, database kept in the volume") as notes:
        podman("rm", "-v", name)
        start()
        wait_for("production api healthy again", api.healthy, READY_SECONDS)
        kept = api.all_complete([*paths, *more])
        if kept is None:
            raise SmokeCheckError(f"after a restart the tracks are {api.tracks_by_path()}")
        notes.append(f"{len(kept)} tracks kept")
    with steps.step("production: removed with its volumes"):
        podman("rm", "-f", "-v", "-t", "30", name, timeout=60)
        podman("volume", "rm", f"{name}-data", f"{name}-music")


def override_checks(steps: Steps, staging: Path) -> None:
    env = {
        "PORT": str(OVERRIDE_PORT),
        "MUS_BIND_ADDRESS": "127.0.0.1",
        "MUS_REDIS_HOST_PORT": str(OVERRIDE_REDIS_PORT),
    }
    compose = Compose(env, DOCKER / "docker-compose.override.yml.example")
    api = LibraryApi(OVERRIDE_PORT)
    with steps.step("override: up -d with docker-compose.override.yml.example") as notes:
        compose("up", "-d", "--no-build")
        wait_for("api healthy (development, --reload)", api.healthy, READY_SECONDS)
        notes.append(", ".join(compose.containers()))
    with steps.step("override: a copied file becomes COMPLETE through the watchfiles worker"):
        paths = copy_into_music(
            audio_files(staging / "override", ["dev-first"]), compose.container("api")
        )
        wait_for("COMPLETE", lambda: api.all_complete(paths), PROCESSED_SECONDS)
    containers = compose.containers()
    stop_within_grace(steps, "override: down -v within the grace period",
                      lambda: compose("down", "-v", timeout=120), containers)  # fmt: skip


def on_deadline(signum: int, frame: FrameType | None) -> None:
    raise SmokeCheckError("the whole run went over its --timeout")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=int, default=2400, help="bound of the whole run (s)")
    parser.add_argument(
        "--only", nargs="+", choices=("compose", "production", "override"),
        default=["compose", "production", "override"],
    )  # fmt: skip
    parser.add_argument(
        "--pull-bases", action="store_true",
        help="pull python:3.11-slim and redis:7 from their registry instead of building them",
    )  # fmt: skip
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(args.timeout)
    steps = Steps()
    staging = Path(tempfile.mkdtemp(prefix="mus-smoke-"))
    status = 1
    try:
        with steps.step("podman installed and configured"):
            run(["bash", str(DOCKER / "base-images" / "install-podman.sh")], timeout=900)
        with steps.step("clean what an earlier run left"):
            cleanup(PROJECT)
        if args.pull_bases:
            PULL_POLICY[0] = "missing"
        else:
            with steps.step("base images from Debian packages (kept when already built)"):
                build = DOCKER / "base-images" / "build.sh"
                run(["bash", str(build), "python", "redis"], timeout=900)
        checks = {"compose": compose_checks, "production": production_checks,
                  "override": override_checks}  # fmt: skip
        for name in args.only:
            checks[name](steps, staging)
        status = 0
    except (SmokeCheckError, subprocess.TimeoutExpired) as failure:
        print(f"compose-smoke: FAILED: {failure}", flush=True)
        listed = (
            podman("ps", "-a", "--format", "{{.Names}}", check=False)
            if shutil.which("podman")
            else ""
        )
        for container in listed.split():
            if container.startswith(PROJECT):
                print(f"--- last lines of {container}'s log")
                logs = run(["podman", "logs", "--tail", "40", container], check=False)
                print(logs.stdout + logs.stderr)
    finally:
        signal.alarm(0)
        with steps.step("cleanup: every mus-smoke container, volume and network"):
            cleanup(PROJECT)
        shutil.rmtree(staging, ignore_errors=True)
        print(steps.table())
    print("compose-smoke: passed" if status == 0 else "compose-smoke: FAILED")
    return status


if __name__ == "__main__":
    sys.exit(main())
