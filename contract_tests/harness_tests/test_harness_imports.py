"""No two harness modules import each other, directly or round a longer loop.

A cycle is how `mutants` and `mutation_list` once depended on each other (the runner read
the list, the list imported the runner's record type): the list is now data the runner reads.
Every import counts, those inside functions included, since a late import only hides a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import harness

HARNESS_ROOT = Path(harness.__file__).resolve().parent


def harness_imports(root: Path) -> dict[str, set[str]]:
    """Each module of the package at `root` and the modules of that package it imports."""
    package = root.name
    modules = {path.stem for path in root.glob("*.py") if path.stem != "__init__"}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module in sorted(modules):
        tree = ast.parse((root / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = f"{package}.{base}" if base else package
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for name in names:
                head, _, rest = name.partition(".")
                target = rest.split(".")[0]
                if head == package and target in modules and target != module:
                    graph[module].add(target)
    return graph


def import_cycles(root: Path) -> list[str]:
    """One line per loop in the import graph, as `a -> b -> a`, each loop named once."""
    graph = harness_imports(root)
    found: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        for target in sorted(graph[path[-1]]):
            if target == path[0]:
                found.add(tuple(path))
            elif target not in path and target > path[0]:
                walk([*path, target])

    for start in sorted(graph):
        walk([start])
    return sorted(" -> ".join([*cycle, cycle[0]]) for cycle in found)


def test_no_two_harness_modules_import_each_other() -> None:
    assert import_cycles(HARNESS_ROOT) == []


def test_mutation_list_is_data_that_imports_nothing_of_the_harness() -> None:
    graph = harness_imports(HARNESS_ROOT)
    assert graph["mutation_list"] == set()
    assert "mutation_list" in graph["mutants"]


def test_a_planted_loop_is_named(tmp_path: Path) -> None:
    """The checker on a synthetic package: a direct pair, a late import, a three-module loop."""
    root = tmp_path / "harness"
    root.mkdir()
    (root / "__init__.py").touch()
    (root / "runner.py").write_text("from harness.listing import ITEMS\n")
    (root / "listing.py").write_text("def late():\n    from harness import runner\n")
    (root / "a.py").write_text("import harness.b\n")
    (root / "b.py").write_text("from .c import thing\n")
    (root / "c.py").write_text("from harness.a import other\n")
    (root / "leaf.py").write_text("from harness.listing import ITEMS\nimport json\n")
    assert import_cycles(root) == [
        "a -> b -> c -> a",
        "listing -> runner -> listing",
    ]
