"""The generative fuzzer finds a planted difference and shrinks it to a short, pasteable scenario.

The sabotage drops `handle_file_deleted` on streaq only (`harness/sabotage.py`); the fuzzer,
from a fixed seed and no saved examples, must report it, shrink the history to at most five
actions, and print a scenario that, pasted into a module, runs on arq and does the lost job.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generative.scenario_text import IMPORTS
from harness.provenance import CONTRACT_ROOT
from harness.queue_backends import arq_backend
from harness.sabotage import SABOTAGE_ENV
from harness.scenario_set import ScenarioSet
from harness.world import open_world

SHRUNK = re.compile(r"the smallest failing history \((?P<actions>\d+) actions?\)")
SUMMARY = re.compile(
    r"(?P<histories>\d+) histories run, (?P<actions>\d+) actions run, (?P<jobs>\d+) jobs executed"
)


def fuzz(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make contract-fuzz` as a child process, in this environment (arq layered in), with
    no sabotage but the one `env` names."""
    return subprocess.run(
        [sys.executable, "-m", "generative.fuzz", "--no-database", *args],
        cwd=CONTRACT_ROOT,
        env={**{k: v for k, v in os.environ.items() if k != SABOTAGE_ENV}, **env},
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )


async def test_a_job_dropped_on_streaq_is_found_and_shrunk_to_a_scenario_of_at_most_five_actions(
    tmp_path: Path, contract_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = fuzz(
        "--seed", "3", "--histories", "40", "--max-actions", "6", "--shrink-seconds", "60",
        "--name", "planted_deletion_dropped",
        env={"MUS_CONTRACT_SABOTAGE": "streaq-drops-file-deletions"},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    shrunk = SHRUNK.search(output)
    assert shrunk is not None, output
    assert 1 <= int(shrunk["actions"]) <= 5, output
    # The lost job is named, arq's side present and streaq's absent, and it is no race.
    differences = output[shrunk.end() : output.index("replayed on")]
    assert "handle_file_deleted" in differences, output
    assert "-> streaq '<absent>'" in differences, output
    assert output.count("repeats itself") == 2, output
    scenario = output[output.index("@scenarios.add") :]
    tree = ast.parse(scenario)
    function = tree.body[0]
    assert isinstance(function, ast.AsyncFunctionDef), scenario
    assert function.name == "planted_deletion_dropped"
    assert "await world.os_events([('deleted'," in scenario, scenario
    summary = SUMMARY.search(output)
    assert summary is not None and int(summary["jobs"]) > 0, output
    # Pasted into a module, the scenario runs on the arq baseline and does the lost job.
    scenarios = ScenarioSet()
    namespace: dict[str, Any] = {"scenarios": scenarios}
    exec(compile(IMPORTS + scenario, "<printed scenario>", "exec"), namespace)
    async with open_world(arq_backend(), tmp_path, contract_redis_url, monkeypatch) as world:
        await scenarios["planted_deletion_dropped"](world)
        await world.drain()
        recording = await world.record()
    assert "handle_file_deleted" in [job["task"] for job in recording["jobs"]], recording


def test_without_the_sabotage_the_same_seed_finds_no_difference() -> None:
    """So the catch above is the sabotage's doing, not noise of the fuzzer's own."""
    result = fuzz("--seed", "3", "--histories", "8", "--max-actions", "6", env={})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 differing histories (no difference found)" in output, output
    summary = SUMMARY.search(output)
    assert summary is not None and int(summary["histories"]) == 8, output
