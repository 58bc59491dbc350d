"""Read syrupy's amber snapshot files back into data, for field-level diffs in the report.

Amber writes dicts as `dict({...})` and lists as `list([...])` around Python literals;
dropping those wrappers (by token, so text inside strings is left alone) leaves a literal
that `ast.literal_eval` reads safely.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"^# name: (?P<name>\S+)\n(?P<body>.*?)^# ---$", re.MULTILINE | re.DOTALL)
WRAPPERS = frozenset({"dict", "list", "tuple", "set", "frozenset"})


def unwrapped(body: str) -> str:
    tokens = list(tokenize.generate_tokens(io.StringIO(body.strip()).readline))
    kept: list[str] = []
    wrapper_parens: list[bool] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            token.type == tokenize.NAME
            and token.string in WRAPPERS
            and following is not None
            and following.string == "("
        ):
            wrapper_parens.append(True)
            index += 2
            continue
        if token.string == "(":
            wrapper_parens.append(False)
        elif token.string == ")" and wrapper_parens.pop():
            index += 1
            continue
        kept.append(token.string)
        index += 1
    return " ".join(kept)


def parse_value(body: str) -> Any:
    return ast.literal_eval(unwrapped(body))


def read_snapshots(path: Path) -> dict[str, Any]:
    """Test name (`test_scenario[name]`) -> the recorded document."""
    return {match["name"]: parse_value(match["body"]) for match in BLOCK.finditer(path.read_text())}
