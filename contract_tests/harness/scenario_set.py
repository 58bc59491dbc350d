"""A module's scenarios by name; test ids are these names, never the backend's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from harness.world import World

Scenario = Callable[[World], Awaitable[None]]


class ScenarioSet:
    """`@scenarios.add` registers a scenario; `names()` feeds `pytest.mark.parametrize`."""

    def __init__(self) -> None:
        self._scenarios: dict[str, Scenario] = {}

    def add(self, scenario: Scenario) -> Scenario:
        if scenario.__name__ in self._scenarios:
            raise ValueError(f"scenario {scenario.__name__!r} registered twice")
        self._scenarios[scenario.__name__] = scenario
        return scenario

    def names(self) -> list[str]:
        return sorted(self._scenarios)

    def __getitem__(self, name: str) -> Scenario:
        return self._scenarios[name]
