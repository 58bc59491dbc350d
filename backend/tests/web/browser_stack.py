"""The real mus stack for the browser tests: uvicorn and the streaq worker as processes.

Each stack has its own data folder and music folder (real audio made by ffmpeg), the test
Redis database (flushed first; streaq's keys are shared, so one stack runs at a time) and its
own event channel. Imported by the tests as `browser_stack`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from mus.core.streaq_broker import WORKER_MODULE_COMMAND

from tests.process_probes import free_port, stop_process_and_children, wait_until

START_SECONDS = 60
BROKEN = "Broken/Bad Rip.mp3"
"""A file with an audio name and no audio in it: its analysis ends in ERROR."""
PARITY_PAGE = "<html><body><h1>Parity: streaq matches arq</h1><p>42 scenarios</p></body></html>"


@dataclass
class BrowserStack:
    """A running api (and worker) on a temporary library, with shortcuts the tests use."""

    root: Path
    redis_url: str
    secret_key: str | None = None
    with_worker: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    event_channel: str = field(default_factory=lambda: f"mus:test-web:{uuid.uuid4().hex}")
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def music_dir(self) -> Path:
        return self.data_dir / "music"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "database" / "mus.db"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "stack.log"

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"MUSIC_DIR_PATH", "DRAGONFLY_URL", "SECRET_KEY", "APP_ENV"}
        }
        env.update(
            DATA_DIR_PATH=str(self.data_dir),
            REDIS_URL=self.redis_url,
            MUS_EVENT_CHANNEL=self.event_channel,
            MUS_WORKER_CONCURRENCY="4",
            MUS_RECONCILE_SECONDS="0",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            **self.extra_env,
        )
        if self.secret_key:
            env["SECRET_KEY"] = self.secret_key
        return env

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as sink:
            return subprocess.Popen(
                command,
                cwd=self.root,
                env=self.environment(),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def start(self, *, flush: bool = True) -> BrowserStack:
        """Flush the test Redis database (unless told not to: a stack without a worker queues
        nothing), then start the worker and the api; wait for health."""
        self.music_dir.mkdir(parents=True, exist_ok=True)
        if flush:
            client = redis.Redis.from_url(self.redis_url)
            try:
                client.flushdb()
            finally:
                client.close()
        if self.with_worker:
            self.worker = self._spawn([sys.executable, *WORKER_MODULE_COMMAND])
        self.start_api()
        return self

    def start_api(self) -> None:
        self.api = self._spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "mus.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ]
        )
        wait_until(
            lambda: (
                self.api is not None
                and (self.api.poll() is not None or self.status("/api/v1/healthcheck") == 200)
            ),
            START_SECONDS,
            "a healthy api",
            self.log_path,
        )
        assert self.api.poll() is None, f"the api exited:\n{self.log_tail()}"

    def stop_api(self) -> None:
        if self.api is not None:
            stop_process_and_children(self.api, signal.SIGTERM, grace_seconds=10)
            self.api = None

    def second_api(self, *, secret_key: str | None) -> BrowserStack:
        """Another api on the same library, broker and event channel (its own key, no watcher
        and no start-up scan: the first api does those), for tests that change the api."""
        twin = BrowserStack(
            self.root,
            self.redis_url,
            secret_key=secret_key,
            with_worker=False,
            event_channel=self.event_channel,
            extra_env={
                **self.extra_env,
                "MUS_WATCHER_ENABLED": "false",
                "MUS_INITIAL_SCAN_ENABLED": "false",
            },
        )
        return twin.start(flush=False)

    def stop(self) -> None:
        self.stop_api()
        if self.worker is not None:
            stop_process_and_children(self.worker, signal.SIGTERM, grace_seconds=10)
            self.worker = None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def _request(self, path: str) -> urllib.request.Request:
        headers = {"Authorization": f"Bearer {self.secret_key}"} if self.secret_key else {}
        return urllib.request.Request(self.base_url + path, headers=headers)

    def status(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self._request(path), timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return None

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self._request(path), timeout=5) as response:
            return json.load(response)

    def tracks(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get_json("/api/v1/tracks?limit=500")["items"]
        return items

    def track_titled(self, title: str) -> dict[str, Any]:
        return next(track for track in self.tracks() if track["title"] == title)

    def wait_for_tracks(self, predicate: Any, what: str, timeout: float = 30) -> None:
        """Poll the list API until `predicate(tracks)` holds, failing with the stack's log."""
        wait_until(lambda: bool(predicate(self.tracks())), timeout, what, self.log_path)


def settle(stack: BrowserStack, expected: dict[str, str], timeout: float = 45) -> None:
    """Wait until the listed paths have the given statuses (the worker analysed them)."""

    def settled(tracks: list[dict[str, Any]]) -> bool:
        found = {track["file_path"]: track["processing_status"] for track in tracks}
        return all(found.get(path) == wanted for path, wanted in expected.items())

    stack.wait_for_tracks(settled, f"{len(expected)} tracks analysed", timeout)


def now_ms() -> float:
    return time.monotonic() * 1000
