"""Naming the first field where two recordings differ: the normaliser gap to close."""

from __future__ import annotations

from typing import Any


def first_difference(left: Any, right: Any, where: str = "recording") -> str | None:
    """`where` path and both values of the first difference, or None when equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            if key not in left or key not in right:
                return f"{where}.{key}: present in only one run"
            found = first_difference(left[key], right[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        if len(left) != len(right):
            return f"{where}: {len(left)} items in one run, {len(right)} in the other"
        return None
    if left != right:
        return f"{where}: {left!r} != {right!r}"
    return None
