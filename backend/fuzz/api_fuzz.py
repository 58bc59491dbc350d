"""`make fuzz-api`: Schemathesis against the real api, from its own OpenAPI document.

Starts the api (`uvicorn mus.main:app`) on a temporary data folder holding a few real
audio files, on a Redis database of its own (flushed before and after), then lets
Schemathesis generate valid and invalid requests for every operation for a bounded time.
Fails on any 500, any error that is not a JSON `{"detail": ...}`, any response that does
not match the document, or fewer generated requests than asked for. Prints the count.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import redis

from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec

HERE = Path(__file__).resolve().parent
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "error_is_json_detail",
    ]
)
LIBRARY = [
    AudioSpec("Artist/One.mp3", "mp3", title="One", artist="Artist", cover=CoverSpec()),
    AudioSpec("Two.flac", "flac", title="Two"),
    AudioSpec("Three.ogg", "ogg", title="Three", artist="Band"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, within_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"api-fuzz: the api did not answer {url} within {within_seconds:g}s")


@contextlib.contextmanager
def running_api(data_dir: Path, redis_url: str, port: int) -> Iterator[str]:
    env = {
        **os.environ,
        "DATA_DIR_PATH": str(data_dir),
        "REDIS_URL": redis_url,
        "MUS_EVENT_CHANNEL": "mus:fuzz-events",
        "LOG_LEVEL": "WARNING",
        "MUS_RECONCILE_SECONDS": "0",
    }
    env.pop("SECRET_KEY", None)
    env.pop("MUSIC_DIR_PATH", None)
    log = (data_dir / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mus.main:app", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        wait_healthy(f"{base}/healthcheck")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def requests_made(report: Path) -> int:
    """How many requests Schemathesis sent: the recorded interactions in its NDJSON events."""
    total = 0
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is not None:
            total += len(finished.get("recorder", {}).get("interactions", {}))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=120, help="seconds of fuzzing")
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("MUS_FUZZ_REDIS_URL", "redis://127.0.0.1:6379/12"),
        help="a Redis database for the fuzz run alone (flushed before and after)",
    )
    arguments = parser.parse_args()
    broker = redis.Redis.from_url(arguments.redis_url)
    broker.flushdb()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="mus-fuzz-") as folder:
            data_dir = Path(folder)
            for spec in LIBRARY:
                write_audio(spec, data_dir / "music")
            report = data_dir / "events.ndjson"
            with running_api(data_dir, arguments.redis_url, free_port()) as base:
                command = [
                    "schemathesis", "run", f"{base}/openapi.json",
                    "--checks", CHECKS,
                    "--max-time", str(arguments.max_time),
                    "--phases", "examples,coverage,fuzzing,stateful",
                    # One worker: with two, Hypothesis' source inspection runs in two threads
                    # and CPython 3.11 crashes inside it now and then (SystemError "AST
                    # constructor recursion depth mismatch", KeyError in its lambda cache),
                    # a failure of the generator, not of the api.
                    "--workers", "1",
                    "--request-timeout", "10",
                    "--suppress-health-check", "all",
                    "--report", "ndjson", "--report-ndjson-path", str(report),
                    "--exclude-path", "/api/v1/events/track-updates",
                ]  # fmt: skip
                if arguments.seed is not None:
                    command += ["--seed", str(arguments.seed)]
                env = {**os.environ, "SCHEMATHESIS_HOOKS": "error_shape_check"}
                env["PYTHONPATH"] = os.pathsep.join(
                    filter(None, [str(HERE), env.get("PYTHONPATH")])
                )
                # Run in the temporary folder: Schemathesis keeps its cache in the cwd.
                status = subprocess.run(command, env=env, cwd=data_dir, check=False).returncode
            count = requests_made(report)
            if status != 0:
                kept = Path(tempfile.mkdtemp(prefix="mus-fuzz-failure-"))
                for evidence in (report, data_dir / "api.log"):
                    if evidence.exists():
                        shutil.copy2(evidence, kept / evidence.name)
                print(f"api-fuzz: the events and the api's log are kept in {kept}")
    finally:
        broker.flushdb()
        broker.close()
    elapsed = time.monotonic() - started
    print(f"api-fuzz: {count} generated requests in {elapsed:.0f}s, schemathesis exit {status}")
    if status != 0:
        return status
    if count < arguments.min_requests:
        print(f"api-fuzz: fewer than {arguments.min_requests} requests: raise --max-time")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
