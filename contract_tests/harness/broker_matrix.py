"""`make contract-matrix`: both legs against broker containers, and DragonflyDB refused.

With a Docker engine (docker SDK): for `redis:7` and `valkey/valkey:8`, run the contract
suite on arq and on streaq against a fresh container each and the cutover gate on that
broker's two legs (reports under `report/matrix/<broker>/`); then start DragonflyDB and show
the one sentence the streaq worker refuses it with. Without an engine it says so in one line
and exits non-zero: never a silent pass. `make contract-matrix` gives it one on machines
without Docker: podman's Docker API and images built from Debian packages
(tools/contract-matrix.sh).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from harness.parity_results import REPORT_DIR_ENV

CONTRACT_ROOT = Path(__file__).resolve().parents[1]
BACKEND_ROOT = CONTRACT_ROOT.parent / "backend"
BROKERS = ("redis:7", "valkey/valkey:8")
DRAGONFLY = "docker.dragonflydb.io/dragonflydb/dragonfly:latest"
LEGS = ("arq", "streaq")
MATRIX_REPORT_ROOT = CONTRACT_ROOT / "report" / "matrix"
READY_SECONDS = 60
NO_ENGINE_EXIT = 2


class NoEngineError(RuntimeError):
    """No Docker engine answers (or the docker SDK is missing)."""


@dataclass(frozen=True, slots=True)
class LegResult:
    broker: str
    leg: str
    passed: bool
    seconds: float


def docker_client() -> Any:
    """A docker SDK client that answered a ping, or NoEngineError saying why not."""
    try:
        import docker
        from docker.errors import DockerException
    except ModuleNotFoundError:
        raise NoEngineError("the docker SDK is not installed (run `make setup`)") from None
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NoEngineError(f"no Docker engine reachable ({reason})") from None
    return client


@contextmanager
def broker_container(client: Any, image: str) -> Iterator[str]:
    """A fresh broker container on a free host port; yields its redis:// URL."""
    from docker.types import Ulimit

    # DragonflyDB asks for an unlimited memlock (its documented `--ulimit memlock=-1`).
    ulimits = [Ulimit(name="memlock", soft=-1, hard=-1)] if image == DRAGONFLY else None
    container = client.containers.run(
        image,
        detach=True,
        remove=True,
        ports={"6379/tcp": ("127.0.0.1", None)},
        ulimits=ulimits,
    )
    try:
        deadline = time.monotonic() + READY_SECONDS
        url = ""
        while time.monotonic() < deadline:
            container.reload()
            bindings = container.attrs["NetworkSettings"]["Ports"].get("6379/tcp") or []
            if bindings:
                url = f"redis://127.0.0.1:{bindings[0]['HostPort']}/14"
                try:
                    if redis.Redis.from_url(url, socket_connect_timeout=1).ping():
                        break
                except redis.RedisError:
                    pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{image}: no PING answer within {READY_SECONDS}s")
        yield url
    finally:
        container.stop(timeout=5)


def report_dir_of(broker: str) -> Path:
    """Each broker's results and parity report in a folder of its own."""
    return MATRIX_REPORT_ROOT / broker.replace("/", "_").replace(":", "-")


def run_leg(broker: str, url: str, leg: str) -> LegResult:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", f"--queue-backend={leg}", "-q"],
        cwd=CONTRACT_ROOT,
        env={
            **os.environ,
            "MUS_CONTRACT_REDIS_URL": url,
            REPORT_DIR_ENV: str(report_dir_of(broker)),
        },
        check=False,
    )
    return LegResult(broker, leg, completed.returncode == 0, time.monotonic() - started)


def run_gate(broker: str) -> LegResult:
    """The cutover gate on this broker's two legs: parity per broker, not only overall."""
    started = time.monotonic()
    completed = subprocess.run(
        [
            sys.executable, "-m", "harness.cutover_gate", "--strict",
            "--report-dir", str(report_dir_of(broker)),
        ],
        cwd=CONTRACT_ROOT,
        check=False,
    )  # fmt: skip
    return LegResult(broker, "gate", completed.returncode == 0, time.monotonic() - started)


def dragonfly_refusal(url: str) -> tuple[int, str]:
    """The real streaq worker CLI against DragonflyDB: its exit code and what it printed."""
    completed = subprocess.run(
        [sys.executable, "-m", "streaq", "run", "mus.worker:worker"],
        cwd=BACKEND_ROOT,
        env={**os.environ, "REDIS_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, (completed.stdout + completed.stderr).strip()


def check_dragonfly_at(url: str) -> int:
    """Against a DragonflyDB someone else started (CI's service container)."""
    text, ok = summary([], dragonfly_refusal(url), legs_expected=False)
    print(text)
    return 0 if ok else 1


def summary(
    results: list[LegResult], dragonfly: tuple[int, str] | None, *, legs_expected: bool = True
) -> tuple[str, bool]:
    """The matrix as text, and whether everything went as it must."""
    lines = []
    if results or legs_expected:
        lines.append(f"{'broker':<20}{'leg':<8}{'result':<8}seconds")
    lines += [
        f"{r.broker:<20}{r.leg:<8}{'passed' if r.passed else 'FAILED':<8}{r.seconds:.0f}"
        for r in results
    ]
    ok = (bool(results) or not legs_expected) and all(r.passed for r in results)
    if dragonfly is not None:
        code, output = dragonfly
        refused = code != 0 and "DragonflyDB" in output and "Traceback" not in output
        ok = ok and refused
        verdict = "refused as it must be" if refused else "NOT refused with its sentence"
        if lines:
            lines.append("")
        lines += [f"DragonflyDB, streaq worker: exit {code}, {verdict}:", f"  {output}"]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brokers", nargs="+", default=list(BROKERS))
    parser.add_argument("--legs", nargs="+", choices=LEGS, default=list(LEGS))
    parser.add_argument("--no-dragonfly", action="store_true")
    parser.add_argument(
        "--dragonfly-url",
        help="only check the refusal against this running DragonflyDB (no Docker needed)",
    )
    args = parser.parse_args(argv)
    if args.dragonfly_url:
        return check_dragonfly_at(args.dragonfly_url)
    try:
        client = docker_client()
    except NoEngineError as exc:
        print(f"contract-matrix: not run: {exc}; CI runs the same matrix as service containers")
        return NO_ENGINE_EXIT
    results = []
    for image in args.brokers:
        with broker_container(client, image) as url:
            results += [run_leg(image, url, leg) for leg in args.legs]
        if set(LEGS) <= set(args.legs):
            results.append(run_gate(image))
    dragonfly = None
    if not args.no_dragonfly:
        with broker_container(client, DRAGONFLY) as url:
            dragonfly = dragonfly_refusal(url)
    text, ok = summary(results, dragonfly)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
