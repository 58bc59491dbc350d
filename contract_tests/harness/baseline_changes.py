"""Which recordings changed since the cutover baseline, and by which commits.

The baseline is the commit where the gate first proved parity and arq left mus; its id is
pinned in `contract_tests/cutover-baseline`. A re-recorded scenario is not a failure, but a
release manager must see it: "3 scenarios re-recorded since the baseline, by these commits".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.amber_reader import BLOCK
from harness.code_identity import git
from harness.provenance import CONTRACT_ROOT

BASELINE_FILE = CONTRACT_ROOT / "cutover-baseline"
SNAPSHOTS = "contract_tests/scenarios/__snapshots__"


@dataclass(frozen=True, slots=True)
class SnapshotChange:
    """One scenario whose recording is not what the baseline had."""

    scenario: str
    change: str  # "re-recorded", "added" or "removed"
    commits: list[str]  # "<short id> <subject>" of each commit that changed it, oldest first;
    # "uncommitted" last when the working tree changes it


@dataclass(slots=True)
class BaselineComparison:
    ref: str
    changes: list[SnapshotChange] = field(default_factory=list)
    problem: str | None = None  # why no comparison could be made (no git, shallow clone)


def blocks(text: str, module: str) -> dict[str, str]:
    return {f"scenarios/{module}.py::{m['name']}": m["body"] for m in BLOCK.finditer(text)}


def snapshot_texts_at(ref: str, repo_root: Path) -> dict[str, str] | None:
    names = git("ls-tree", "--name-only", f"{ref}:{SNAPSHOTS}", repo_root=repo_root)
    if names is None:
        return None
    texts: dict[str, str] = {}
    for name in names.splitlines():
        text = git("show", f"{ref}:{SNAPSHOTS}/{name}", repo_root=repo_root)
        if text is not None:
            texts[name] = text + "\n"
    return texts


def commits_changing(ref: str, name: str, scenario: str, repo_root: Path) -> list[str]:
    """The commits since `ref` that changed this scenario's recording (not merely its file),
    oldest first, and "uncommitted" when the working tree changes it too."""
    path = f"{SNAPSHOTS}/{name}"
    module = name.removesuffix(".ambr")
    log = git(
        "log", "--reverse", "--no-merges", "--format=%H %h %s", f"{ref}..HEAD", "--", path,
        repo_root=repo_root,
    )  # fmt: skip
    found: list[str] = []
    for line in (log or "").splitlines():
        full, short_and_subject = line.split(" ", 1)
        after = blocks(git("show", f"{full}:{path}", repo_root=repo_root) or "", module)
        before = blocks(git("show", f"{full}^:{path}", repo_root=repo_root) or "", module)
        if after.get(scenario) != before.get(scenario):
            found.append(short_and_subject)
    committed = blocks(git("show", f"HEAD:{path}", repo_root=repo_root) or "", module)
    on_disk = repo_root / path
    now = blocks(on_disk.read_text() if on_disk.exists() else "", module)
    if committed.get(scenario) != now.get(scenario):
        found.append("uncommitted")
    return found


def compare_with_baseline(contract_root: Path = CONTRACT_ROOT) -> BaselineComparison:
    repo_root = contract_root.parent
    baseline_file = contract_root / BASELINE_FILE.name
    ref = baseline_file.read_text().strip() if baseline_file.exists() else ""
    comparison = BaselineComparison(ref=ref or "(none pinned)")
    if not ref:
        comparison.problem = f"no baseline pinned in {baseline_file.name}"
        return comparison
    before_files = snapshot_texts_at(ref, repo_root)
    if before_files is None:
        comparison.problem = f"baseline {ref[:12]} is not in this checkout's git history"
        return comparison
    now_files = {
        path.name: path.read_text()
        for path in sorted((contract_root / "scenarios" / "__snapshots__").glob("*.ambr"))
    }
    for name in sorted(set(before_files) | set(now_files)):
        module = name.removesuffix(".ambr")
        before = blocks(before_files.get(name, ""), module)
        now = blocks(now_files.get(name, ""), module)
        changed = [
            (
                scenario,
                "added"
                if scenario not in before
                else "removed"
                if scenario not in now
                else "re-recorded",
            )
            for scenario in sorted(set(before) | set(now))
            if before.get(scenario) != now.get(scenario)
        ]
        comparison.changes += [
            SnapshotChange(scenario, kind, commits_changing(ref, name, scenario, repo_root))
            for scenario, kind in changed
        ]
    return comparison
