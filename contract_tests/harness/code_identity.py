"""Which code a recording or a run came from: a hash of the files themselves, and the commit.

The tree hash covers what decides a recording: mus's package, the locked dependencies, the
harness and the scenarios (not the snapshots, which the digest covers). It is computed from
the files on disk, so uncommitted changes count: results from other code cannot pass as ours.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.provenance import CONTRACT_ROOT, files_digest

REPO_ROOT = CONTRACT_ROOT.parent
# Relative to the repository root; folders are taken whole (caches and snapshots left out).
CODE_PATHS = (
    "backend/src/mus",
    "backend/uv.lock",
    "contract_tests/conftest.py",
    "contract_tests/harness",
    "contract_tests/scenarios",
    "contract_tests/requirements-arq.txt",
)
SKIPPED_PARTS = frozenset({"__pycache__", "__snapshots__"})


def code_files(repo_root: Path = REPO_ROOT) -> list[Path]:
    files: list[Path] = []
    for name in CODE_PATHS:
        path = repo_root / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [
            candidate
            for candidate in candidates
            if candidate.is_file()
            and not SKIPPED_PARTS.intersection(candidate.relative_to(repo_root).parts)
            and candidate.suffix != ".pyc"
        ]
    return sorted(files)


def code_tree_hash(repo_root: Path = REPO_ROOT) -> str:
    """The digest of every code file (repository-relative names), in name order."""
    return files_digest(code_files(repo_root), repo_root)


def git(*args: str, repo_root: Path = REPO_ROOT) -> str | None:
    """A git command's output, or None outside a repository (an exported tree, no git)."""
    try:
        completed = subprocess.run(
            ["git", *args], cwd=repo_root, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def current_commit(repo_root: Path = REPO_ROOT) -> str:
    """HEAD, marked when the code paths carry uncommitted changes."""
    head = git("rev-parse", "HEAD", repo_root=repo_root)
    if head is None:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", *CODE_PATHS, repo_root=repo_root)
    return f"{head} + uncommitted changes" if dirty else head
