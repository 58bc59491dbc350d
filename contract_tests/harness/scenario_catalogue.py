"""What each scenario covers, in one line, read from its docstring (or its name).

Read with `ast`, not by importing: the report is written where the scenarios' imports may
not resolve, and reading must not run anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

from harness.provenance import CONTRACT_ROOT

REGISTERING = frozenset({"add", "add_on_own_broker"})


def registered(function: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Attribute) and decorator.attr in REGISTERING
        for decorator in function.decorator_list
    )


def one_line(function: ast.AsyncFunctionDef | ast.FunctionDef) -> str:
    docstring = ast.get_docstring(function)
    if not docstring:
        return function.name.replace("_", " ")
    first_paragraph = docstring.split("\n\n", 1)[0]
    return " ".join(first_paragraph.split())


def scenario_descriptions(contract_root: Path = CONTRACT_ROOT) -> dict[str, str]:
    """Node id (`scenarios/<module>.py::test_scenario[<name>]`) -> what it covers."""
    found: dict[str, str] = {}
    for module in sorted((contract_root / "scenarios").glob("test_*.py")):
        tree = ast.parse(module.read_text())
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and registered(node):
                found[f"scenarios/{module.name}::test_scenario[{node.name}]"] = one_line(node)
    return found
