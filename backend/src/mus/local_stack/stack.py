"""`mus run` / `make run`: the whole stack on one machine, in one terminal, until Ctrl-C.

Starts what a developer would otherwise start by hand (a Redis if REDIS_URL points here and
nothing answers, the api, `MUS_WORKER_PROCESSES` workers on all three queues, one per core by
default, named streaq-worker-1..N), shows the URL once the api is healthy, restarts with
backoff a child that dies (the api and the workers ride out a Redis restart meanwhile), and
on Ctrl-C/SIGTERM stops everything it started, and only that.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from mus.core.broker_preflight import BrokerRefusedError, mask_url, refuse_unfit_broker
from mus.core.config import AppEnv, Settings
from mus.core.streaq_broker import WORKER_MODULE_COMMAND, WORKER_PROCESS_NAME
from mus.local_stack.managed_process import (
    DEFAULT_STOP_TIMEOUT_SECONDS,
    ManagedProcess,
    stop_processes,
)
from mus.local_stack.redis_server import (
    BrokerError,
    RedisTarget,
    broker_answers,
    find_redis_server,
    install_redis_server,
    local_redis_process,
    wait_until_reachable,
)

DEFAULT_HOST = "127.0.0.1"
HEALTHCHECK_PATH = "/api/v1/healthcheck"
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.2
DEMO_MARKER_NAME = ".demo-library-created"
OLD_LOCAL_REDIS_HINT = (
    " The redis-server installed here is too old: install Redis >= 7 (Debian 12, Ubuntu 24.04,"
    " or packages.redis.io) or point REDIS_URL at a Redis >= 7 or Valkey >= 7.2"
)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# A child that dies is started again after a delay that doubles up to the last one; one
# that keeps dying within STABLE_SECONDS of its start is given up on (a broken set-up, not
# a crash), like supervisord's startretries.
RESTART_DELAYS_SECONDS = (1.0, 30.0)
STABLE_SECONDS = 10.0
MAX_QUICK_DEATHS = 5


class LocalStackError(RuntimeError):
    """`mus run` cannot go on; the message is the one sentence the user needs."""


class ChildExitedError(LocalStackError):
    """A child of the stack ended while it should be running, and is not restarted."""

    def __init__(self, name: str, code: int, reason: str = "exited unexpectedly") -> None:
        super().__init__(f"{name} {reason} with code {code}; stopping the rest")
        self.name = name
        self.code = code


@dataclass(slots=True)
class RestartPlan:
    """When a dead child is started again, and how often it already died young."""

    delay: float
    due: float | None = None
    quick_deaths: int = 0
    restarts: int = 0


def music_folder_is_empty(folder: Path) -> bool:
    """No visible entry: hidden ones (the api's `.uploads`, OS litter) do not count."""
    return not any(not entry.name.startswith(".") for entry in folder.iterdir())


def probe_host(host: str) -> str:
    """Where to reach a server listening on `host` (a wildcard bind answers on loopback)."""
    if host in {"", "0.0.0.0"}:
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def http_base_url(host: str, port: int) -> str:
    """`http://host:port` with IPv6 literals bracketed."""
    shown = probe_host(host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def ensure_port_free(host: str, port: int) -> None:
    """Fail before starting anything when the api could not listen (clearer than uvicorn's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalStackError(
                f"the api cannot listen on {host}:{port} ({exc.strerror or exc}): stop what "
                "uses that port, or choose another with PORT (and HOST)"
            ) from None


def healthcheck_status(url: str, timeout: float = 1.0) -> int | None:
    """HTTP status of the healthcheck, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


class LocalStack:
    """The processes of one `mus run`: start(), wait() until a stop or a death, stop()."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = DEFAULT_HOST,
        python: str = sys.executable,
        out: TextIO | None = None,
        err: TextIO | None = None,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
        restart_delays: tuple[float, float] = RESTART_DELAYS_SECONDS,
    ) -> None:
        self.settings = settings
        self.host = host
        self.python = python
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.stop_timeout = stop_timeout
        self.ready_timeout = ready_timeout
        self.redis: ManagedProcess | None = None
        self.services: list[ManagedProcess] = []
        self.exited: ChildExitedError | None = None
        self.restart_delays = restart_delays
        self.restarts: dict[str, RestartPlan] = {}
        self._stop_requested = threading.Event()

    # -- messages -------------------------------------------------------------------------

    def say(self, message: str) -> None:
        print(f"mus: {message}", file=self.out, flush=True)

    def complain(self, message: str) -> None:
        print(f"mus: {message}", file=self.err, flush=True)

    # -- life cycle -----------------------------------------------------------------------

    @property
    def processes(self) -> list[ManagedProcess]:
        """Everything this stack started, the Redis first."""
        return ([self.redis] if self.redis is not None else []) + self.services

    @property
    def url(self) -> str:
        return http_base_url(self.host, self.settings.port)

    def request_stop(self) -> None:
        """Ask start()/wait() to return; safe from a signal handler."""
        self._stop_requested.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def start(self) -> None:
        """Folders, demo library, broker, workers, api; returns once the api is healthy.

        Raises LocalStackError with what to fix; returns early, without error, when a stop
        was requested meanwhile.
        """
        self.prepare_folders()
        if self.stop_requested:
            return
        ensure_port_free(self.host, self.settings.port)
        self.prepare_database()
        try:
            self.ensure_broker()
        except BrokerError as exc:
            raise LocalStackError(str(exc)) from None
        if self.stop_requested:
            return
        environment = self.child_environment()
        self.launch_workers(environment)
        self._launch(ManagedProcess("api", self.api_command(), env=environment))
        self.wait_until_healthy()
        if self.stop_requested:
            return
        # The player first: it is what a person opening the URL came for.
        print(f"mus is running: play your library at {self.url}/", file=self.out, flush=True)
        docs = "" if self.settings.app_env is AppEnv.PRODUCTION else f", API docs: {self.url}/docs"
        print(f"  operator's view: {self.url}/admin{docs}", file=self.out, flush=True)
        self.say("press Ctrl-C to stop")

    def wait(self) -> int:
        """Supervise until a stop is requested (0) or a child is given up on (1, naming it)."""
        while not self._stop_requested.wait(POLL_SECONDS):
            try:
                self.supervise()
            except ChildExitedError as exc:
                self.complain(str(exc))
                return 1
        return 0

    def supervise(self, now: float | None = None) -> None:
        """Restart, with backoff, every child that has ended; each restart is logged.

        Raises ChildExitedError for a child that died young MAX_QUICK_DEATHS times in a row.
        """
        now = time.monotonic() if now is None else now
        first, longest = self.restart_delays
        for process in self.processes:
            code = process.poll()
            if code is None:
                continue
            plan = self.restarts.setdefault(process.name, RestartPlan(delay=first))
            if plan.due is None:
                lived = now - (process.started_at or now)
                if lived >= STABLE_SECONDS:
                    plan.quick_deaths, plan.delay = 0, first
                plan.quick_deaths += 1
                if plan.quick_deaths > MAX_QUICK_DEATHS:
                    self.exited = ChildExitedError(
                        process.name,
                        code,
                        f"died {MAX_QUICK_DEATHS + 1} times within {STABLE_SECONDS:.0f}s of "
                        "starting, last",
                    )
                    raise self.exited
                plan.due = now + plan.delay
                self.complain(
                    f"{process.name} exited with code {code} after {lived:.1f}s; "
                    f"restarting it in {plan.delay:g}s"
                )
            elif now >= plan.due:
                process.restart()
                plan.due, plan.restarts = None, plan.restarts + 1
                plan.delay = min(plan.delay * 2, longest)
                self.say(f"restarted {process.name} (restart {plan.restarts}, pid {process.pid})")

    def stop(self) -> None:
        """Stop api and workers together, then the Redis this stack started (never another)."""
        in_stop_order = [*self.services, *([self.redis] if self.redis is not None else [])]
        running = [process.name for process in in_stop_order if process.is_running()]
        if not running:
            return
        self.say("stopping " + ", ".join(running))
        for killed in stop_processes(self.services, self.stop_timeout):
            self.complain(f"{killed.name} did not stop within {self.stop_timeout:.0f}s: killed")
        if self.redis is not None:
            for killed in stop_processes([self.redis], self.stop_timeout):
                self.complain(f"{killed.name} did not stop within {self.stop_timeout:.0f}s: killed")
        self.say("stopped")

    # -- steps ----------------------------------------------------------------------------

    def prepare_folders(self) -> None:
        """Create the data folders; fill an empty music folder with the demo library once."""
        try:
            self.settings.ensure_directories()
        except OSError as exc:
            raise LocalStackError(
                f"cannot create the data folders under {self.settings.data_dir_path} ({exc}): "
                "check DATA_DIR_PATH / MUSIC_DIR_PATH and this user's rights there"
            ) from None
        music = self.settings.music_dir_path
        if not music_folder_is_empty(music):
            return
        marker = self.settings.data_dir_path / DEMO_MARKER_NAME
        if marker.is_file() and marker.read_text(encoding="utf-8").strip() == str(music):
            self.say(
                f"the music folder {music} is empty (the demo library was created there once "
                f"and removed; delete {marker} to get it back)"
            )
            return
        from mus.demo.demo_library import create_demo_library

        try:
            files = create_demo_library(music)
        except (OSError, RuntimeError) as exc:
            raise LocalStackError(f"cannot write the demo library to {music}: {exc}") from None
        marker.write_text(f"{music}\n", encoding="utf-8")
        self.say(f"the music folder was empty: created the demo library ({len(files)} tracks) in")
        self.say(f"  {music}")

    def prepare_database(self) -> None:
        """Create the tables once, here: api and workers starting together on a fresh
        database would otherwise race each other to create them."""
        from mus.adapters.persistence.database import Database

        async def create_tables() -> None:
            database = Database.from_settings(self.settings)
            try:
                await database.create_tables()
            finally:
                await database.dispose()

        try:
            asyncio.run(create_tables())
        except Exception as exc:
            raise LocalStackError(
                f"cannot open the database {self.settings.database_url}: {exc}"
            ) from None

    def ensure_broker(self) -> None:
        """Reach (or start) the broker, then refuse it before any child when it is unfit."""
        self.reach_broker()
        try:
            asyncio.run(refuse_unfit_broker(self.settings.redis_url, allow_unreachable=False))
        except BrokerRefusedError as exc:
            # When the redis-server of this machine is the one too old, say where to get one.
            hint = "" if self.redis is None else OLD_LOCAL_REDIS_HINT
            raise BrokerError(f"{exc}{hint}") from None

    def reach_broker(self) -> None:
        """Use the Redis at REDIS_URL; start a local one when it is local and silent."""
        url = self.settings.redis_url
        target = RedisTarget.parse(url)
        if broker_answers(url):
            self.say(f"using the Redis at {mask_url(url)}")
            return
        if not target.is_local:
            raise BrokerError(
                f"cannot reach the Redis at {mask_url(url)} (REDIS_URL/DRAGONFLY_URL), and mus run "
                "starts a Redis itself only for a redis:// URL on localhost: start that server "
                "or fix the URL (unset REDIS_URL to get a local one)"
            )
        binary = find_redis_server() or install_redis_server(self.say)
        if broker_answers(url):  # installing may have started the system's own service
            self.say(f"using the Redis at {mask_url(url)}")
            return
        data_dir = (self.settings.data_dir_path / "redis").resolve()
        self.redis = local_redis_process(binary, target, data_dir)
        self.redis.start()
        wait_until_reachable(url, self.redis, should_stop=lambda: self.stop_requested)
        self.say(
            f"started redis-server on {target.bind_address}:{target.port} (AOF, data in {data_dir})"
        )

    def child_environment(self) -> dict[str, str]:
        """Our environment plus the resolved settings, so every child sees the same library."""
        environment = dict(os.environ)
        environment.update(
            {
                "DATA_DIR_PATH": str(self.settings.data_dir_path.resolve()),
                "MUSIC_DIR_PATH": str(self.settings.music_dir_path),
                "REDIS_URL": self.settings.redis_url,
                "PORT": str(self.settings.port),
                "LOG_LEVEL": self.settings.log_level,
                "PYTHONUNBUFFERED": "1",
            }
        )
        environment.pop("DRAGONFLY_URL", None)
        return environment

    def launch_workers(self, environment: dict[str, str]) -> None:
        """Start streaq-worker-1..N, each a ManagedProcess `supervise()` restarts on its own."""
        for name in self.worker_names():
            self._launch(ManagedProcess(name, self.worker_command(), env=environment))

    def worker_names(self) -> list[str]:
        """streaq-worker-1..N: each worker process is supervised, and named, on its own."""
        count = self.settings.worker_processes
        return [f"{WORKER_PROCESS_NAME}-{number}" for number in range(1, count + 1)]

    def worker_command(self) -> list[str]:
        """The queue backend's real worker CLI: every queue, highest priority first."""
        return [self.python, *WORKER_MODULE_COMMAND]

    def api_command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "uvicorn",
            "mus.main:app",
            "--host",
            self.host,
            "--port",
            str(self.settings.port),
            "--log-level",
            self.settings.log_level.lower(),
        ]

    def wait_until_healthy(self) -> None:
        """Poll the healthcheck until 200, failing fast if a child dies meanwhile."""
        url = self.url + HEALTHCHECK_PATH
        deadline = time.monotonic() + self.ready_timeout
        last: int | None = None
        while not self.stop_requested:
            self.check_children()
            last = healthcheck_status(url)
            if last == 200:
                return
            if time.monotonic() > deadline:
                answer = f"last answer HTTP {last}" if last is not None else "no answer"
                raise LocalStackError(
                    f"the api was not healthy at {url} within {self.ready_timeout:.0f}s "
                    f"({answer}); its log above says why"
                )
            time.sleep(POLL_SECONDS)

    def check_children(self) -> None:
        """Raise ChildExitedError for the first child that has ended."""
        for process in self.processes:
            code = process.poll()
            if code is not None:
                self.exited = ChildExitedError(process.name, code)
                raise self.exited

    def _launch(self, process: ManagedProcess) -> None:
        self.services.append(process)
        process.start()


@contextmanager
def stop_on_signals(stack: LocalStack) -> Iterator[None]:
    """Route Ctrl-C, SIGTERM and SIGHUP to `stack.request_stop()` while the stack runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stack.request_stop()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
    for signum in STOP_SIGNALS:
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)


def run_local_stack(settings: Settings) -> int:
    """What `mus run` does; returns the process exit code (0 after Ctrl-C, 1 on failure)."""
    stack = LocalStack(settings, host=os.environ.get("HOST", DEFAULT_HOST))
    with stop_on_signals(stack):
        try:
            stack.start()
            code = stack.wait()
        except LocalStackError as exc:
            if stack.stop_requested and stack.exited is None:
                code = 0  # interrupted mid-start (e.g. Ctrl-C also hit apt-get or ffmpeg)
            else:
                stack.complain(str(exc))
                code = 1
        finally:
            stack.stop()
    return code
