"""Every field of every recorded document, and the ones that never vary: over-normalising guard.

Normalising a field to a constant retires its check silently: once it is blanked and the
baseline re-recorded, every backend matches it. So a full run lists each leaf field (by path,
list positions and track labels folded) with the distinct values it held across all
recordings, and fails for a field that is the same everywhere unless `constant_fields.toml`
says why (an opaque value normalised on purpose, a setting no scenario changes).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.provenance import CONTRACT_ROOT

ALLOW_LIST = CONTRACT_ROOT / "constant_fields.toml"
# Keys that are data, not field names: folded so one field has one path across recordings.
LABEL_KEYED = frozenset({"events"})
MIN_RECORDINGS = 3  # a field seen in fewer is too rare to judge


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(field path, scalar value) of every leaf: `tracks[].title`, `events.*[].type`."""
    if isinstance(value, dict):
        for key, item in value.items():
            step = "*" if path.rsplit(".", maxsplit=1)[-1] in LABEL_KEYED else key
            yield from leaves(item, f"{path}.{step}" if path else str(step))
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def field_values(recordings: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """Field path -> (distinct values as JSON, recordings it appears in)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, document in recordings.items():
        for path, value in leaves(document):
            values, seen_in = found.setdefault(path, (set(), set()))
            values.add(json.dumps(value, sort_keys=True, default=str))
            seen_in.add(name)
    return found


def constant_fields(recordings: dict[str, Any]) -> dict[str, str]:
    """Field path -> its one value, for fields seen in enough recordings that never vary.

    A field that is null in some recordings and a document in others (`last_error`) varies:
    its null leaves share the path with the document's fields below it.
    """
    found = field_values(recordings)
    parents = {path.rsplit(".", 1)[0] for path in found if "." in path}
    parents |= {path.split("[]", 1)[0] for path in found if "[]" in path}
    return {
        path: next(iter(values))
        for path, (values, seen_in) in sorted(found.items())
        if len(values) == 1 and len(seen_in) >= MIN_RECORDINGS and path not in parents
    }


def allowed(path: Path = ALLOW_LIST) -> dict[str, str]:
    """Field path -> why it may be the same in every recording."""
    entries = tomllib.loads(path.read_text()).get("field", []) if path.exists() else []
    return {entry["path"]: entry["reason"] for entry in entries}


def inventory_problems(recordings: dict[str, Any], allow: dict[str, str]) -> list[str]:
    constant = constant_fields(recordings)
    problems = [
        f"field {path} is {value} in every recording: over-normalised, or a behaviour no "
        f"scenario varies (add one, or list it with a reason in {ALLOW_LIST.name})"
        for path, value in constant.items()
        if path not in allow
    ]
    seen = field_values(recordings)
    problems += [
        f"{ALLOW_LIST.name} lists {path}, which now varies or is gone: remove the entry"
        for path in sorted(allow)
        if (path not in constant and path in seen) or path not in seen
    ]
    return problems
