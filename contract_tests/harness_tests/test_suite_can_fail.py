"""The proof can fail: broken behaviour, edited snapshots and wrong backends are all caught."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.provenance import (
    CONTRACT_ROOT,
    PROVENANCE_FILE,
    digest_problem,
    snapshots_digest,
    update_refusal,
)


def run_contract(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The contract suite as a developer runs it, in a child pytest."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:warnings", "-q", *args],
        cwd=CONTRACT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_job_that_skips_the_cover_fails_the_comparison_with_a_readable_diff() -> None:
    result = run_contract(
        "--queue-backend=arq",
        "scenarios/test_file_created.py::test_scenario[tagged_mp3_with_cover]",
        env={"MUS_CONTRACT_SABOTAGE": "skip-cover"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed" in output
    assert "snapshot" in output
    # The diff shows what changed: both cover files are gone and has_cover flipped.
    diff = [" ".join(line[1:].split()) for line in output.splitlines() if line.startswith("E ")]
    assert "- 'has_cover': True," in diff, output
    assert "+ 'has_cover': False," in diff, output
    assert diff.count("- 'format': 'WEBP',") == 2, output


def test_the_same_scenario_passes_without_sabotage() -> None:
    result = run_contract(
        "--queue-backend=arq",
        "scenarios/test_file_created.py::test_scenario[tagged_mp3_with_cover]",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_updating_snapshots_with_another_backend_is_refused() -> None:
    assert update_refusal("arq") is None
    refusal = update_refusal("streaq")
    assert refusal is not None
    assert "refusing to update snapshots with the 'streaq' backend" in refusal


def test_an_unknown_backend_is_a_clear_usage_error() -> None:
    result = run_contract("--queue-backend=celery", "--collect-only")
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "unknown queue backend 'celery'" in output


def test_digest_matches_the_committed_baseline() -> None:
    assert digest_problem() is None


def test_an_edited_snapshot_breaks_the_digest(tmp_path: Path) -> None:
    copy = tmp_path / "contract_tests"
    shutil.copytree(
        CONTRACT_ROOT / "scenarios" / "__snapshots__", copy / "scenarios" / "__snapshots__"
    )
    provenance = copy / "provenance.json"
    shutil.copy(PROVENANCE_FILE, provenance)
    assert digest_problem(copy, provenance) is None
    snapshot = next((copy / "scenarios" / "__snapshots__").glob("*.ambr"))
    snapshot.write_text(snapshot.read_text().replace("COMPLETE", "C0MPLETE", 1))
    problem = digest_problem(copy, provenance)
    assert problem is not None
    assert "snapshot files changed since the arq baseline recorded them" in problem
    assert snapshots_digest(copy)[:12] in problem


def test_a_suite_run_on_edited_snapshots_stops_before_any_scenario(tmp_path: Path) -> None:
    provenance = PROVENANCE_FILE.read_text()
    try:
        PROVENANCE_FILE.write_text(
            provenance.replace('"snapshots_digest": "', '"snapshots_digest": "0', 1)
        )
        result = run_contract("--queue-backend=arq", "scenarios/test_file_created.py")
    finally:
        PROVENANCE_FILE.write_text(provenance)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "contract baseline integrity" in output
    assert "passed" not in output


def test_missing_provenance_is_reported(tmp_path: Path) -> None:
    problem = digest_problem(tmp_path, tmp_path / "provenance.json")
    assert problem is not None and "make contract-record" in problem


def test_recording_runs_only_scenarios_so_self_tests_never_read_stale_snapshots(
    tmp_path: Path,
) -> None:
    # In a copy: syrupy's --snapshot-update deletes the snapshots a run did not assert.
    copy = tmp_path / "contract_tests"
    shutil.copytree(CONTRACT_ROOT, copy, ignore=shutil.ignore_patterns("report", "__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:warnings", "-q", "--collect-only",
         "--queue-backend=arq", "--snapshot-update"],
        cwd=copy, env=os.environ, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    collected = [line for line in output.splitlines() if "::" in line]
    assert collected, output
    assert all(line.startswith("scenarios/") for line in collected), output
    assert "deselected" in output, output
