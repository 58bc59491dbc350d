"""Deliberate breakage, for proving the suite fails when behaviour changes (harness tests only).

Set MUS_CONTRACT_SABOTAGE to a name below; the contract conftest applies it to the run.
"""

from __future__ import annotations

import pytest

from mus.application import slow_analysis

SABOTAGE_ENV = "MUS_CONTRACT_SABOTAGE"


def skip_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow analysis no longer finds embedded covers: no cover files, has_cover False."""
    monkeypatch.setattr(slow_analysis, "extract_embedded_cover", lambda _path: None)


SABOTAGES = {"skip-cover": skip_cover}


def apply(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        SABOTAGES[name](monkeypatch)
    except KeyError:
        raise pytest.UsageError(
            f"unknown {SABOTAGE_ENV} {name!r}: {', '.join(SABOTAGES)}"
        ) from None
