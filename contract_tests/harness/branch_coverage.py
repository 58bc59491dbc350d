"""Branch coverage of the jobs and the watcher's mapping, measured over a full contract run.

A branch no scenario takes is a behaviour the migration proof never compared. The check fails
for each one unless `uncovered_branches.toml` lists it with a reason. Branches are named by
function and source text, not line numbers, so the allow-list survives unrelated edits; an
entry whose branch is now taken is reported too, so the list never goes stale.
"""

from __future__ import annotations

import ast
import json
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import coverage

import mus

from harness.provenance import CONTRACT_ROOT

PACKAGE_ROOT = Path(mus.__file__).resolve().parent
MEASURED = (
    "jobs/file_system_jobs.py",
    "jobs/metadata_jobs.py",
    "application/slow_analysis.py",
    "application/batch_analysis.py",
    "watcher/change_mapper.py",
    "watcher/creation_batches.py",
)
ALLOW_LIST = CONTRACT_ROOT / "uncovered_branches.toml"


@dataclass(frozen=True, slots=True)
class Branch:
    """`module.py:function: <source of the decision> -> <source it jumps to, or exit>`."""

    module: str
    function: str
    source: str
    target: str

    def key(self) -> str:
        return f"{self.module}:{self.function}: {self.source} -> {self.target}"


def start() -> coverage.Coverage:
    measured = [str(PACKAGE_ROOT / name) for name in MEASURED]
    cov = coverage.Coverage(branch=True, include=measured, data_file=None)
    cov.start()
    return cov


def functions_by_line(tree: ast.Module) -> dict[int, str]:
    """Line -> qualified name of the innermost function holding it."""
    owner: dict[int, str] = {}

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = [*scope, child.name]
                if not isinstance(child, ast.ClassDef):
                    for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                        owner[line] = ".".join(inner)
                visit(child, inner)
            else:
                visit(child, scope)

    visit(tree, [])
    return owner


def missing_branches(cov: coverage.Coverage) -> list[Branch]:
    cov.stop()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "branches.json"
        cov.json_report(outfile=str(report))
        files = json.loads(report.read_text())["files"]
    found: list[Branch] = []
    for name in MEASURED:
        path = PACKAGE_ROOT / name
        data = files.get(str(path)) or files.get(str(path.relative_to(Path.cwd())), None)
        lines = path.read_text().splitlines()
        owner = functions_by_line(ast.parse(path.read_text()))
        if data is None:  # the module never ran at all: every branch in it is missing
            raise RuntimeError(f"branch coverage: {name} was never executed by the suite")
        for source_line, target_line in data["missing_branches"]:
            target = "exit" if target_line < 0 else lines[target_line - 1].strip()
            found.append(
                Branch(
                    module=name,
                    function=owner.get(source_line, "<module>"),
                    source=lines[source_line - 1].strip(),
                    target=target,
                )
            )
    return sorted(set(found), key=Branch.key)


@dataclass(frozen=True, slots=True)
class Allowed:
    """An allow-list entry: why no scenario takes the branch; `sometimes` when a race inside
    a scenario takes it in some runs (so its being taken is not a stale entry)."""

    reason: str
    sometimes: bool = False


def allowed(path: Path = ALLOW_LIST) -> dict[str, Allowed]:
    """Allow-listed branch key -> why."""
    entries = tomllib.loads(path.read_text()).get("branch", []) if path.exists() else []
    return {
        entry["key"]: Allowed(entry["reason"], bool(entry.get("sometimes", False)))
        for entry in entries
    }


def branch_problems(missing: list[Branch], allow: dict[str, Allowed]) -> list[str]:
    keys = {branch.key() for branch in missing}
    problems = [
        f"branch taken by no scenario: {key} (add a scenario, or list it with a reason in "
        f"{ALLOW_LIST.name})"
        for key in sorted(keys - set(allow))
    ]
    problems += [
        f"allow-listed branch is taken now (or its code changed): {key}; remove it from "
        f"{ALLOW_LIST.name}"
        for key in sorted(set(allow) - keys)
        if not allow[key].sometimes
    ]
    return problems
