"""Recordings changed since the pinned baseline are listed with the commits that did it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.baseline_changes import compare_with_baseline

SNAPSHOT = """# serializer version: 1
# name: test_scenario[{name}]
  dict({{
    'value': {value},
  }})
# ---
"""


def commit(root: Path, message: str) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return git("rev-parse", "HEAD")


def write(root: Path, module: str, scenarios: dict[str, int]) -> None:
    folder = root / "contract_tests/scenarios/__snapshots__"
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(SNAPSHOT.format(name=n, value=v) for n, v in scenarios.items())
    (folder / f"{module}.ambr").write_text(text)


def test_changes_since_the_baseline_name_scenarios_and_commits(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    write(root, "test_a", {"kept": 1, "changed": 2, "dropped": 3})
    baseline = commit(root, "baseline")
    (root / "contract_tests/cutover-baseline").write_text(baseline + "\n")
    write(root, "test_a", {"kept": 1, "changed": 20})
    commit(root, "Re-record test_a: the changed scenario's value")
    write(root, "test_b", {"new": 5})

    comparison = compare_with_baseline(root / "contract_tests")

    assert comparison.problem is None
    summary = {(c.scenario, c.change): c.commits for c in comparison.changes}
    subject = "Re-record test_a: the changed scenario's value"
    assert list(summary) == [
        ("scenarios/test_a.py::test_scenario[changed]", "re-recorded"),
        ("scenarios/test_a.py::test_scenario[dropped]", "removed"),
        ("scenarios/test_b.py::test_scenario[new]", "added"),
    ]
    assert [c.split(" ", 1)[1] for c in summary[next(iter(summary))]] == [subject]
    assert summary[("scenarios/test_b.py::test_scenario[new]", "added")] == ["uncommitted"]


def test_a_baseline_outside_the_history_is_said_plainly(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    write(root, "test_a", {"kept": 1})
    commit(root, "only commit")
    (root / "contract_tests/cutover-baseline").write_text("0" * 40 + "\n")
    comparison = compare_with_baseline(root / "contract_tests")
    assert comparison.problem == "baseline 000000000000 is not in this checkout's git history"


def test_the_pinned_baseline_of_this_repository_is_in_its_history() -> None:
    comparison = compare_with_baseline()
    assert comparison.problem is None, comparison.problem
