"""Where two recordings differ, field by field: path -> recorded value -> this run's value.

What a release manager reads instead of a pytest traceback. Lists compare by position, which
names the first element that differs; a missing element shows as `<absent>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ABSENT = "<absent>"


@dataclass(frozen=True, slots=True)
class FieldDifference:
    path: str
    recorded: Any
    observed: Any


def field_differences(recorded: Any, observed: Any, path: str = "") -> list[FieldDifference]:
    if isinstance(recorded, dict) and isinstance(observed, dict):
        found: list[FieldDifference] = []
        for key in sorted(set(recorded) | set(observed), key=str):
            found += field_differences(
                recorded.get(key, ABSENT), observed.get(key, ABSENT), f"{path}.{key}"
            )
        return found
    if isinstance(recorded, list) and isinstance(observed, list):
        found = []
        for index in range(max(len(recorded), len(observed))):
            found += field_differences(
                recorded[index] if index < len(recorded) else ABSENT,
                observed[index] if index < len(observed) else ABSENT,
                f"{path}[{index}]",
            )
        return found
    if recorded == observed:
        return []
    return [FieldDifference(path.lstrip(".") or "<document>", recorded, observed)]
