"""The branch check: names branches by function and source, fails on unlisted and stale ones."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import coverage

from mus.watcher.change_mapper import ChangeKind

from harness.branch_coverage import (
    MEASURED,
    PACKAGE_ROOT,
    Allowed,
    Branch,
    allowed,
    branch_problems,
    functions_by_line,
)

MISSING = Branch("jobs/x.py", "job", "if track is None:", 'return {"outcome": "unknown"}')


def test_a_branch_is_named_by_module_function_and_source() -> None:
    assert MISSING.key() == 'jobs/x.py:job: if track is None: -> return {"outcome": "unknown"}'


def test_an_unlisted_missing_branch_is_a_problem() -> None:
    [problem] = branch_problems([MISSING], {})
    assert problem.startswith(f"branch taken by no scenario: {MISSING.key()}")


def test_a_listed_branch_passes_and_a_stale_entry_is_a_problem() -> None:
    assert branch_problems([MISSING], {MISSING.key(): Allowed("a race")}) == []
    [stale] = branch_problems([], {MISSING.key(): Allowed("a race")})
    assert stale.startswith("allow-listed branch is taken now")
    assert branch_problems([], {MISSING.key(): Allowed("a race", sometimes=True)}) == []


def test_lines_belong_to_their_innermost_function() -> None:
    source = "class A:\n    def f(self):\n        x = 1\n\n        def g():\n            pass\n"
    tree = ast.parse(source)
    owner = functions_by_line(tree)
    assert owner[3] == "A.f"
    assert owner[6] == "A.f.g"


def test_every_allow_list_entry_has_a_reason_and_names_a_measured_module() -> None:
    entries = allowed()
    assert entries
    for key, entry in entries.items():
        assert entry.reason.strip(), key
        assert key.split(":", 1)[0] in MEASURED, key


def test_coverage_measures_branches_of_the_measured_modules(tmp_path: Path) -> None:
    """coverage.py, as the check runs it, sees which side of a branch of the mapping ran."""
    mapper = str(PACKAGE_ROOT / "watcher/change_mapper.py")
    cov = coverage.Coverage(branch=True, include=[mapper], data_file=None)
    cov.start()
    assert ChangeKind.of(ChangeKind.ADDED) is ChangeKind.ADDED
    cov.stop()
    report = tmp_path / "report.json"
    cov.json_report(outfile=str(report))
    measured = json.loads(report.read_text())["files"]
    [data] = measured.values()
    assert data["executed_branches"], data
    assert data["missing_branches"], data
