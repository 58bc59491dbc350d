"""The generative fuzzer finds a planted difference and shrinks it to a short, pasteable scenario.

The sabotage drops `handle_file_deleted` on streaq only (`harness/sabotage.py`); the fuzzer,
from a fixed seed and no saved examples, must report it, shrink the history to at most five
actions, and print a scenario that is valid Python naming the lost job.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

from harness.provenance import CONTRACT_ROOT

SHRUNK = re.compile(r"the smallest failing history \((?P<actions>\d+) actions?\)")
SUMMARY = re.compile(
    r"(?P<histories>\d+) histories run, (?P<actions>\d+) actions run, (?P<jobs>\d+) jobs executed"
)


def fuzz(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make contract-fuzz` as a child process, in this environment (arq layered in)."""
    return subprocess.run(
        [sys.executable, "-m", "generative.fuzz", "--no-database", *args],
        cwd=CONTRACT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )


def test_a_job_dropped_on_streaq_is_found_and_shrunk_to_a_scenario_of_five_actions_or_fewer() -> (
    None
):
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
