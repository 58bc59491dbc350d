"""The tree hash follows the code, not the snapshots; the commit says when it is dirty."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.code_identity import CODE_PATHS, REPO_ROOT, code_files, code_tree_hash, current_commit


def code_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in CODE_PATHS:
        source = REPO_ROOT / name
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return root


def test_a_copy_of_the_code_has_the_same_hash(tmp_path: Path) -> None:
    assert code_tree_hash(code_copy(tmp_path)) == code_tree_hash(REPO_ROOT)


def test_a_one_byte_change_in_the_product_changes_the_hash(tmp_path: Path) -> None:
    root = code_copy(tmp_path)
    before = code_tree_hash(root)
    module = root / "backend/src/mus/application/job_catalogue.py"
    module.write_text(module.read_text().replace("HIGH", "HlGH", 1))
    assert code_tree_hash(root) != before


def test_snapshots_are_not_code(tmp_path: Path) -> None:
    root = code_copy(tmp_path)
    before = code_tree_hash(root)
    snapshot = next((root / "contract_tests/scenarios/__snapshots__").glob("*.ambr"))
    snapshot.write_text(snapshot.read_text() + "\n")
    assert code_tree_hash(root) == before
    assert not any("__snapshots__" in path.parts for path in code_files(root))


def test_a_commit_with_uncommitted_code_says_so(tmp_path: Path) -> None:
    root = code_copy(tmp_path)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "code")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert current_commit(root) == head
    (root / "contract_tests/conftest.py").write_text("# edited\n")
    assert current_commit(root) == f"{head} + uncommitted changes"


def test_outside_git_the_commit_is_unknown(tmp_path: Path) -> None:
    assert current_commit(tmp_path).startswith("unknown")
