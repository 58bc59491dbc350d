"""Deliberate breakage, for proving the suite fails when behaviour changes (harness tests only).

Set MUS_CONTRACT_SABOTAGE to a name below; the contract conftest applies it to the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from mus.application import slow_analysis
from mus.application.job_queue import JobRequest

SABOTAGE_ENV = "MUS_CONTRACT_SABOTAGE"


def skip_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow analysis no longer finds embedded covers: no cover files, has_cover False."""
    monkeypatch.setattr(slow_analysis, "cover_of", lambda _audio, _name: None)


def streaq_drops_file_deletions(monkeypatch: pytest.MonkeyPatch) -> None:
    """On streaq only, `handle_file_deleted` never reaches the broker: the planted difference
    `make contract-fuzz` must find and shrink (harness_tests/test_generative_parity.py)."""
    from mus.adapters.queue.streaq_job_queue import StreaqJobQueue

    original = StreaqJobQueue.enqueue

    async def dropping_deletions(port: StreaqJobQueue, task_name: str, **kwargs: Any) -> str:
        if task_name == "handle_file_deleted":
            return "dropped-by-sabotage"
        return await original(port, task_name, **kwargs)

    original_many = StreaqJobQueue.enqueue_many

    async def dropping_deletions_of_a_batch(
        port: StreaqJobQueue, jobs: Sequence[JobRequest]
    ) -> list[str]:
        kept = [job for job in jobs if job.task_name != "handle_file_deleted"]
        sent = iter(await original_many(port, kept))
        return [
            "dropped-by-sabotage" if job.task_name == "handle_file_deleted" else next(sent)
            for job in jobs
        ]

    monkeypatch.setattr(StreaqJobQueue, "enqueue", dropping_deletions)
    monkeypatch.setattr(StreaqJobQueue, "enqueue_many", dropping_deletions_of_a_batch)


SABOTAGES = {"skip-cover": skip_cover, "streaq-drops-file-deletions": streaq_drops_file_deletions}


def apply(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        SABOTAGES[name](monkeypatch)
    except KeyError:
        raise pytest.UsageError(
            f"unknown {SABOTAGE_ENV} {name!r}: {', '.join(SABOTAGES)}"
        ) from None
