"""The gate, on temporary copies of the repository state: never by breaking main."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness_tests.gate_inputs import REPO_ROOT, repo_copy, results

from harness.cutover_gate import (
    WORKER_MODULE,
    arq_removed,
    evaluate,
    markdown,
    recorded_scenarios,
    write_report,
)
from harness.provenance import CONTRACT_ROOT


def test_arq_removal_is_detected(tmp_path: Path) -> None:
    assert not arq_removed(repo_copy(tmp_path / "before", without_arq=False))
    assert arq_removed(repo_copy(tmp_path / "after", without_arq=True))
    assert arq_removed(repo_copy(tmp_path / "half", without_arq=False, worker_module=False))


def test_main_is_past_the_cutover() -> None:
    assert arq_removed(REPO_ROOT)
    assert not (REPO_ROOT / WORKER_MODULE).exists()


def test_the_gate_command_fails_naming_the_scenario_on_such_a_branch(tmp_path: Path) -> None:
    scenario = sorted(recorded_scenarios())[0]
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {scenario: "- 'duration': 2.0,\n+ 'duration': None,"})
    branch = repo_copy(tmp_path, without_arq=True)

    gate = subprocess.run(
        [sys.executable, "-m", "harness.cutover_gate", "--repo-root", str(branch),
         "--report-dir", str(report)],
        cwd=CONTRACT_ROOT, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip

    assert gate.returncode == 1
    assert f"cutover gate: {scenario}: streaq does not match the arq recording (failed)" in (
        gate.stdout
    )
    assert "cutover gate: FAILED (arq is removed and parity is not proven)" in gate.stdout
    assert "+ 'duration': None," in (report / "parity.md").read_text()


def test_gate_fails_when_arq_is_removed_and_one_scenario_lacks_parity(tmp_path: Path) -> None:
    scenario = sorted(recorded_scenarios())[0]
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {scenario: "- 'has_cover': True,\n+ 'has_cover': False,"})
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    assert verdict.arq_removed
    assert verdict.fails(strict=False)
    assert verdict.problems == [f"{scenario}: streaq does not match the arq recording (failed)"]
    md_path, html_path = write_report(verdict, report)
    text = md_path.read_text()
    assert "**NO PARITY**" in text
    assert "- arq: removed from mus" in text
    assert "+ 'has_cover': False," in text
    assert "&#x27;has_cover&#x27;: False" in html_path.read_text()


def test_with_arq_still_present_only_strict_mode_fails(tmp_path: Path) -> None:
    scenario = sorted(recorded_scenarios())[-1]
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {scenario: "diff"})
    verdict = evaluate(repo_copy(tmp_path, without_arq=False), CONTRACT_ROOT, report)
    assert not verdict.fails(strict=False)
    assert verdict.fails(strict=True)


def test_a_scenario_without_arq_recording_blocks_the_cutover(tmp_path: Path) -> None:
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {}, extra=("scenarios/test_new.py::test_scenario[unrecorded]",))
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    assert (
        "scenarios/test_new.py::test_scenario[unrecorded] has no arq recording" in verdict.problems
    )
    assert verdict.fails(strict=False)


def test_missing_runs_are_problems_and_full_parity_passes(tmp_path: Path) -> None:
    report = tmp_path / "report"
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    assert any("no full arq run found" in problem for problem in verdict.problems)
    results(report, "arq", {})
    results(report, "streaq", {})
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    assert verdict.problems == []
    assert not verdict.fails(strict=True)
    assert "**PARITY: streaq matches every arq recording**" in markdown(verdict)


def test_results_of_other_code_are_refused(tmp_path: Path) -> None:
    report = tmp_path / "report"
    results(report, "arq", {})
    results(report, "streaq", {}, tree_hash="0" * 64)
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    assert len(verdict.problems) == 1
    assert verdict.problems[0].startswith(
        "results-streaq.json came from other code (tree 000000000000, commit test)"
    )
    assert verdict.fails(strict=False)


def test_a_failure_is_shown_field_by_field(tmp_path: Path) -> None:
    scenario = sorted(recorded_scenarios())[0]
    report = tmp_path / "report"
    results(report, "arq", {})
    results(
        report,
        "streaq",
        {scenario: "pytest's own diff"},
        differences=[["jobs[2].queue", "high_priority", "low_priority"]],
    )
    verdict = evaluate(repo_copy(tmp_path, without_arq=True), CONTRACT_ROOT, report)
    md_path, html_path = write_report(verdict, report)
    assert "- `jobs[2].queue`: 'high_priority' -> 'low_priority'" in md_path.read_text()
    page = html_path.read_text()
    assert '<p class="verdict fail" id="verdict">NO PARITY</p>' in page
    assert (
        "<tr><td><code>jobs[2].queue</code></td><td>&#x27;high_priority&#x27;</td>"
        "<td>&#x27;low_priority&#x27;</td></tr>"
    ) in page
