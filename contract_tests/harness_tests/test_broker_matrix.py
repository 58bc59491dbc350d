"""`make contract-matrix`: no engine is a one-line failure; the summary judges every cell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.broker_matrix import (
    CONTRACT_ROOT,
    NO_ENGINE_EXIT,
    LegResult,
    dragonfly_refusal,
    report_dir_of,
    summary,
)
from harness.parity_results import REPORT_DIR_ENV


def test_without_a_docker_engine_it_says_so_in_one_line_and_fails() -> None:
    matrix = subprocess.run(
        [sys.executable, "-m", "harness.broker_matrix"],
        cwd=CONTRACT_ROOT,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert matrix.returncode == NO_ENGINE_EXIT
    lines = (matrix.stdout + matrix.stderr).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("contract-matrix: not run: no Docker engine reachable (")


REFUSAL = (
    1,
    "mus worker not started: the broker at redis://127.0.0.1:32768/14 is DragonflyDB 1.25.1, "
    "which has no Redis Functions (FUNCTION LOAD/FCALL); mus needs Redis >= 7 or Valkey >= 7.2.",
)


def legs(*failed: tuple[str, str]) -> list[LegResult]:
    return [
        LegResult(broker, leg, (broker, leg) not in failed, 42.0)
        for broker in ("redis:7", "valkey/valkey:8")
        for leg in ("arq", "streaq")
    ]


def test_every_leg_passing_and_dragonfly_refused_is_a_pass() -> None:
    text, ok = summary(legs(), REFUSAL)
    assert ok
    assert "refused as it must be" in text
    assert REFUSAL[1] in text


def test_one_failed_leg_fails_the_matrix() -> None:
    text, ok = summary(legs(("valkey/valkey:8", "streaq")), REFUSAL)
    assert not ok
    assert "valkey/valkey:8     streaq  FAILED" in text


def test_dragonfly_accepted_or_a_trace_fails_the_matrix() -> None:
    assert not summary(legs(), (0, "starting worker 1234 for queue mus"))[1]
    assert not summary(legs(), (1, "Traceback (most recent call last): DragonflyDB"))[1]


def test_no_leg_run_is_not_a_pass() -> None:
    assert not summary([], REFUSAL)[1]


def test_the_dragonfly_check_alone_needs_no_legs() -> None:
    text, ok = summary([], REFUSAL, legs_expected=False)
    assert ok
    assert text.splitlines()[0].startswith("DragonflyDB, streaq worker: exit 1, refused")


def test_a_broker_that_is_not_there_is_not_a_dragonfly_refusal() -> None:
    """The real worker CLI refuses, but not for being DragonflyDB: the check must fail."""
    code, output = dragonfly_refusal("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert code == 1
    assert "cannot reach the broker" in output
    assert not summary([], (code, output), legs_expected=False)[1]


def test_each_broker_keeps_its_results_apart(tmp_path: Path) -> None:
    assert report_dir_of("redis:7") != report_dir_of("valkey/valkey:8")
    assert report_dir_of("valkey/valkey:8").name == "valkey_valkey-8"
    code = "from harness.parity_results import REPORT_DIR; print(REPORT_DIR)"
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=CONTRACT_ROOT,
        env={**os.environ, REPORT_DIR_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == str(tmp_path)
