"""After a successful arq recording run: write the provenance of the new baseline."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import redis

from harness.arq_backend import ArqBackend
from harness.provenance import (
    BASELINE_BACKEND,
    Provenance,
    snapshot_files,
    snapshots_digest,
    write_provenance,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def broker_version() -> str:
    client = redis.Redis.from_url(os.environ.get("MUS_CONTRACT_REDIS_URL", DEFAULT_REDIS_URL))
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
    finally:
        client.close()
    name = "valkey" if "valkey_version" in info else "redis"
    return f"{name} {info.get('valkey_version') or info['redis_version']}"


def ffmpeg_version() -> str:
    output = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return output.stdout.splitlines()[0]


def write_baseline_provenance() -> Provenance:
    provenance = Provenance(
        backend=BASELINE_BACKEND,
        backend_version=ArqBackend().version(),
        broker=broker_version(),
        ffmpeg=ffmpeg_version(),
        snapshots_digest=snapshots_digest(),
        scenarios=sum(path.read_text().count("# name: ") for path in snapshot_files()),
    )
    write_provenance(provenance)
    return provenance
