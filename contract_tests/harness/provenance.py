"""Who recorded the snapshots, with what, and a digest that says they were not touched since."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

CONTRACT_ROOT = Path(__file__).resolve().parent.parent
PROVENANCE_FILE = CONTRACT_ROOT / "provenance.json"
BASELINE_BACKEND = "arq"


@dataclass(frozen=True, slots=True)
class Provenance:
    """The content of `provenance.json`, written only by an arq recording run."""

    backend: str
    backend_version: str
    broker: str
    ffmpeg: str
    snapshots_digest: str
    scenarios: int
    # The code the snapshots were recorded on (`harness.code_identity`), when, and how the
    # recording run itself went: a reviewer compares these with the commit that changed them.
    code_tree_hash: str
    commit: str
    recorded_at: str
    recording_results: dict[str, str]


def update_refusal(backend: str) -> str | None:
    """Why `backend` may not write snapshots (None for the arq baseline)."""
    if backend == BASELINE_BACKEND:
        return None
    return (
        f"refusing to update snapshots with the {backend!r} backend: snapshots are the arq "
        "baseline and are (re)recorded only with `make contract-record` (arq); "
        "fix the behaviour instead"
    )


def snapshot_files(root: Path = CONTRACT_ROOT) -> list[Path]:
    return sorted(root.glob("scenarios/__snapshots__/**/*.ambr"))


def files_digest(files: list[Path], root: Path) -> str:
    """sha256 over each file's name relative to `root` and its bytes, in the order given."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def snapshots_digest(root: Path = CONTRACT_ROOT) -> str:
    """The digest of every snapshot file, in name order."""
    return files_digest(snapshot_files(root), root)


def read_provenance(path: Path = PROVENANCE_FILE) -> Provenance | None:
    if not path.exists():
        return None
    return Provenance(**json.loads(path.read_text()))


def write_provenance(provenance: Provenance, path: Path = PROVENANCE_FILE) -> None:
    path.write_text(json.dumps(asdict(provenance), indent=2, sort_keys=True) + "\n")


def digest_problem(root: Path = CONTRACT_ROOT, path: Path = PROVENANCE_FILE) -> str | None:
    """None when the snapshots are exactly what the arq baseline recorded; else why not."""
    provenance = read_provenance(path)
    if provenance is None:
        return f"{path.name} is missing: record the baseline with `make contract-record`"
    if provenance.backend != BASELINE_BACKEND:
        return f"{path.name} says the snapshots were recorded by {provenance.backend!r}, not arq"
    actual = snapshots_digest(root)
    if actual != provenance.snapshots_digest:
        return (
            "the snapshot files changed since the arq baseline recorded them "
            f"(digest {actual[:12]} != recorded {provenance.snapshots_digest[:12]}); "
            "snapshots are (re)recorded only with `make contract-record` under arq"
        )
    return None
