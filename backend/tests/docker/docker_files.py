"""Reading docker/ as its tools would (compose files, Dockerfile ENV), and /proc for processes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCKER_DIR = REPO_ROOT / "docker"
PRODUCTION_DIR = DOCKER_DIR / "production"
SUPERVISORD_CONF = PRODUCTION_DIR / "supervisord.conf"

VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Compose's `${VAR:-default}` interpolation with an empty environment (defaults win)."""
    if isinstance(value, str):
        return VARIABLE.sub(lambda match: match.group("default") or "", value).replace("$$", "$")
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    return value


def load_compose(name: str) -> dict[str, Any]:
    """A compose file of docker/, YAML anchors and merge keys resolved, variables interpolated."""
    document = yaml.safe_load((DOCKER_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{name} is not a YAML mapping"
    return dict(interpolate(document))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    instructions = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env(path: Path) -> dict[str, str]:
    """The variables its ENV instructions set (KEY=VALUE form)."""
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions(path):
        if keyword == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env
