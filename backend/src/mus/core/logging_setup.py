"""Logging: one format for api, worker and CLI so their lines interleave readably."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """Install a plain stream handler at `level` (idempotent)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )
