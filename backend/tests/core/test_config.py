"""Settings from the environment: the DRAGONFLY_URL alias and the worker's queue subset."""

from __future__ import annotations

import pytest

from mus.core.config import Settings
from mus.core.streaq_broker import worker_from_settings


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
