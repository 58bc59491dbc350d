"""Which broker a run talked to, as the report and the provenance name it."""

from __future__ import annotations

import os
from typing import Any

import redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def broker_version() -> str:
    client = redis.Redis.from_url(os.environ.get("MUS_CONTRACT_REDIS_URL", DEFAULT_REDIS_URL))
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
    finally:
        client.close()
    name = "valkey" if "valkey_version" in info else "redis"
    return f"{name} {info.get('valkey_version') or info['redis_version']}"
