"""Settings from the environment: the DRAGONFLY_URL alias, the worker's queues and processes."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from mus.core.config import Settings, settings_problem
from mus.worker import worker_from_settings


def test_dragonfly_url_is_an_alias_of_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DRAGONFLY_URL", "redis://broker.example:6380/2")
    settings = Settings()
    assert settings.redis_url == "redis://broker.example:6380/2"
    worker = worker_from_settings(settings)
    assert worker.broker_url == "redis://broker.example:6380/2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("high_priority", ["high_priority"]),
        (" high_priority , medium_priority ", ["high_priority", "medium_priority"]),
        (",", None),
    ],
)
def test_worker_queues_are_a_comma_separated_subset(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str] | None
) -> None:
    monkeypatch.setenv("MUS_WORKER_QUEUES", value)
    assert Settings().worker_queue_names == expected


def test_worker_concurrency_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUS_WORKER_CONCURRENCY", "3")
    assert worker_from_settings(Settings()).concurrency == 3
    monkeypatch.setenv("MUS_WORKER_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="MUS_WORKER_CONCURRENCY"):
        Settings()


def test_worker_processes_default_to_one_per_core_and_refuse_less_than_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MUS_WORKER_PROCESSES", raising=False)
    assert Settings().worker_processes == (os.cpu_count() or 1)
    monkeypatch.setenv("MUS_WORKER_PROCESSES", "3")
    assert Settings().worker_processes == 3
    for wrong in ("0", "-2"):
        monkeypatch.setenv("MUS_WORKER_PROCESSES", wrong)
        with pytest.raises(ValidationError) as refused:
            Settings()
        assert settings_problem(refused.value) == (
            f"MUS_WORKER_PROCESSES: must be 1 or more (unset: one per core), not {wrong}"
        )


def test_worker_prefetch_is_what_the_worker_holds_beyond_its_running_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MUS_WORKER_CONCURRENCY", "10")
    monkeypatch.delenv("MUS_WORKER_PREFETCH", raising=False)
    assert worker_from_settings(Settings()).prefetch == 10 + 1  # streaq: prefetch + concurrency
    monkeypatch.setenv("MUS_WORKER_PREFETCH", "4")
    assert worker_from_settings(Settings()).prefetch == 10 + 4
    monkeypatch.setenv("MUS_WORKER_PREFETCH", "0")  # streaq would read 0 as "concurrency"
    with pytest.raises(ValidationError, match="MUS_WORKER_PREFETCH"):
        Settings()
