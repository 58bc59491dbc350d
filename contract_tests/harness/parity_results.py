"""Each full contract run leaves its per-scenario outcomes here; the cutover gate reads them."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.broker_version import broker_version
from harness.code_identity import code_tree_hash, current_commit
from harness.provenance import CONTRACT_ROOT, snapshots_digest
from harness.queue_backend import QueueBackend

REPORT_DIR_ENV = "MUS_CONTRACT_REPORT_DIR"
# A run may keep its results apart (the broker matrix keeps one folder per broker).
REPORT_DIR = Path(os.environ.get(REPORT_DIR_ENV) or CONTRACT_ROOT / "report")


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario on one backend: passed or failed, with the snapshot diff when it failed."""

    scenario: str
    outcome: str
    detail: str
    # For a failed comparison: [path, recorded value, this run's value], field by field.
    differences: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BackendRun:
    """What one full run of the suite on one backend found."""

    backend: str
    backend_version: str
    snapshots_digest: str
    results: list[ScenarioResult]
    # The code that produced these results (`harness.code_identity`): the gate refuses
    # results of other code.
    code_tree_hash: str = ""
    commit: str = ""
    finished_at: str = ""
    broker: str = ""


def results_path(backend: str, report_dir: Path = REPORT_DIR) -> Path:
    return report_dir / f"results-{backend}.json"


def write_results(
    backend: QueueBackend, results: dict[str, ScenarioResult], report_dir: Path = REPORT_DIR
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    run = BackendRun(
        backend=backend.name,
        backend_version=backend.version(),
        snapshots_digest=snapshots_digest(),
        results=sorted(results.values(), key=lambda result: result.scenario),
        code_tree_hash=code_tree_hash(),
        commit=current_commit(),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        broker=broker_version(),
    )
    path = results_path(backend.name, report_dir)
    path.write_text(json.dumps(asdict(run), indent=2) + "\n")
    return path


def read_results(backend: str, report_dir: Path = REPORT_DIR) -> BackendRun | None:
    path = results_path(backend, report_dir)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return BackendRun(
        backend=data["backend"],
        backend_version=data["backend_version"],
        snapshots_digest=data["snapshots_digest"],
        results=[ScenarioResult(**item) for item in data["results"]],
        code_tree_hash=data.get("code_tree_hash", ""),
        commit=data.get("commit", ""),
        finished_at=data.get("finished_at", ""),
        broker=data.get("broker", ""),
    )
