"""The Compose Specification schema, from a package rather than the network."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    """The Compose Specification JSON schema, as vendored by the check-jsonschema package."""
    try:
        text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        pytest.fail(
            "the Compose Specification schema comes from the check-jsonschema package: add "
            '"check-jsonschema>=0.32" to the dev dependency group of backend/pyproject.toml '
            "and run `uv sync`",
            pytrace=False,
        )
    schema = json.loads(text)
    assert schema.get("title") == "Compose Specification"
    return dict(schema)
