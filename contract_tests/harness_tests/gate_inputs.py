"""Inputs of the gate as a branch and its runs would leave them, for the gate's own tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.code_identity import code_tree_hash
from harness.cutover_gate import WORKER_MODULE, recorded_scenarios
from harness.provenance import CONTRACT_ROOT, snapshots_digest

REPO_ROOT = CONTRACT_ROOT.parent


def repo_copy(tmp_path: Path, *, without_arq: bool, worker_module: bool = True) -> Path:
    """backend/pyproject.toml and worker.py as a branch before or after the cutover has them."""
    root = tmp_path / "repo"
    worker = root / WORKER_MODULE
    worker.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        line
        for line in (REPO_ROOT / "backend" / "pyproject.toml").read_text().splitlines()
        if not line.strip().startswith('"arq')
    ]
    if not without_arq:
        lines.insert(lines.index("dependencies = [") + 1, '    "arq>=0.26",')
        if worker_module:
            worker.write_text('"""arq worker settings, as before the cutover."""\n')
    (root / "backend" / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return root


def results(
    report_dir: Path,
    backend: str,
    failing: dict[str, str],
    extra: tuple[str, ...] = (),
    *,
    tree_hash: str | None = None,
    differences: list[list[Any]] | None = None,
) -> None:
    """A results file as a full run of `backend` on this checkout's code writes it."""
    report_dir.mkdir(parents=True, exist_ok=True)
    scenarios = sorted(recorded_scenarios() | set(extra))
    body = {
        "backend": backend,
        "backend_version": "test",
        "snapshots_digest": snapshots_digest(),
        "code_tree_hash": code_tree_hash() if tree_hash is None else tree_hash,
        "commit": "test",
        "finished_at": "2026-12-02T00:00:00+00:00",
        "broker": "redis test",
        "results": [
            {
                "scenario": scenario,
                "outcome": "failed" if scenario in failing else "passed",
                "detail": failing.get(scenario, ""),
                "differences": differences if scenario in failing and differences else [],
            }
            for scenario in scenarios
        ],
    }
    (report_dir / f"results-{backend}.json").write_text(json.dumps(body))
