"""The two ways to run the checks say the same commands: tox's envs are the Makefile's targets."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# tox env -> the make invocation it must equal
SAME_CHECKS: dict[str, list[str]] = {
    "lint": ["lint", "types"],
    "unit": ["test"],
    "contract-arq": ["contract", "QUEUE_BACKEND=arq"],
    "contract-streaq": ["contract", "QUEUE_BACKEND=streaq"],
}
UV_OPTIONS_WITH_VALUE = {"--project", "--with-requirements"}

Command = tuple[str, tuple[str, ...]]  # (working folder, the tool's argv)


def _tool_argv(words: list[str]) -> tuple[str, ...]:
    """The words after `[VAR=value ...] uv run [options]`: the tool and its arguments."""
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # environment assignments
    if words[:2] != ["uv", "run"]:
        return tuple(words)
    rest = words[2:]
    while rest and rest[0].startswith("--"):
        rest = rest[2:] if rest[0] in UV_OPTIONS_WITH_VALUE else rest[1:]
    return tuple(rest)


def make_commands(arguments: list[str]) -> list[Command]:
    """What `make -n` would run, as (folder, argv) for every step that runs a tool through uv."""
    printed = subprocess.run(
        ["make", "-n", "--no-print-directory", "UV=uv", *arguments],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", " ")
    commands: list[Command] = []
    for line in printed.splitlines():
        folder = "."
        for segment in line.replace("&&", ";").replace("||", ";").split(";"):
            words = shlex.split(segment)
            if words[:1] == ["cd"]:
                folder = words[1]
            elif "uv" in words and "run" in words:
                commands.append((folder, _tool_argv(words)))
    return commands


def tox_commands(env: str) -> list[Command]:
    """The `commands` of one tox env, with its factor conditions applied and {posargs} dropped."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPOSITORY / "tox.ini")
    section = next(
        name
        for name in (f"testenv:{env}", "testenv:contract-{arq,streaq}")
        if config.has_section(name) and (name.endswith(env) or env.startswith("contract-"))
    )
    folder = config.get(section, "change_dir", fallback=config.get("testenv", "change_dir"))
    folder = folder.replace("{tox_root}/", "")
    factor = env.removeprefix("contract-")
    commands: list[Command] = []
    for line in config.get(section, "commands").strip().splitlines():
        text = line.strip()
        condition, _, rest = text.partition(": ")
        if rest and condition in {"arq", "streaq"}:
            if condition != factor:
                continue
            text = rest
        words = [word for word in shlex.split(text) if word != "{posargs}"]
        commands.append((folder, tuple(words)))
    return commands


@pytest.mark.parametrize(("env", "make_arguments"), sorted(SAME_CHECKS.items()))
def test_tox_env_runs_what_make_runs(env: str, make_arguments: list[str]) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is missing: `make setup` (or tools/install-prerequisites.sh) installs it")
    assert tox_commands(env) == make_commands(make_arguments)


def run_make(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_contract_prints_its_time_when_it_fails_too() -> None:
    """A failing contract run still says how long it took, and make fails with it."""
    failed = run_make("contract", "QUEUE_BACKEND=streaq", "PYTEST_ARGS=-k no_scenario_is_named_so")
    assert failed.returncode != 0
    assert re.search(r"contract suite \(streaq\): \d+s, exit 5", failed.stdout), failed.stdout


def test_make_contract_record_refuses_any_backend_but_arq() -> None:
    refused = run_make("contract-record", "QUEUE_BACKEND=streaq")
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[0] == (
        "contract-record: snapshots are recorded by the arq baseline only; "
        "QUEUE_BACKEND=streaq refused"
    )
