"""A module's scenarios by name; test ids are these names, never the backend's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from harness.world import World

Scenario = Callable[[World], Awaitable[None]]


class ScenarioSet:
    """`@scenarios.add` registers a scenario; `names()` feeds `pytest.mark.parametrize`.

    `@scenarios.add_on_own_broker` registers one that stops or restarts the broker: its
    world gets a Redis of its own (`harness.private_broker`) instead of the shared one.
    """

    def __init__(self) -> None:
        self._scenarios: dict[str, Scenario] = {}
        self._on_own_broker: set[str] = set()

    def add(self, scenario: Scenario) -> Scenario:
        if scenario.__name__ in self._scenarios:
            raise ValueError(f"scenario {scenario.__name__!r} registered twice")
        self._scenarios[scenario.__name__] = scenario
        return scenario

    def add_on_own_broker(self, scenario: Scenario) -> Scenario:
        self.add(scenario)
        self._on_own_broker.add(scenario.__name__)
        return scenario

    def needs_own_broker(self, name: str) -> bool:
        return name in self._on_own_broker

    def names(self) -> list[str]:
        return sorted(self._scenarios)

    def __getitem__(self, name: str) -> Scenario:
        return self._scenarios[name]
