"""After a successful arq recording run: write the provenance of the new baseline."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from harness.arq_backend import ArqBackend
from harness.broker_version import broker_version
from harness.code_identity import code_tree_hash, current_commit
from harness.provenance import (
    BASELINE_BACKEND,
    Provenance,
    snapshot_files,
    snapshots_digest,
    write_provenance,
)


def ffmpeg_version() -> str:
    output = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return output.stdout.splitlines()[0]


def write_baseline_provenance(results: dict[str, str]) -> Provenance:
    """`results`: scenario node id -> outcome of this recording run."""
    provenance = Provenance(
        backend=BASELINE_BACKEND,
        backend_version=ArqBackend().version(),
        broker=broker_version(),
        ffmpeg=ffmpeg_version(),
        snapshots_digest=snapshots_digest(),
        scenarios=sum(path.read_text().count("# name: ") for path in snapshot_files()),
        code_tree_hash=code_tree_hash(),
        commit=current_commit(),
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        recording_results=dict(sorted(results.items())),
    )
    write_provenance(provenance)
    return provenance
