"""Every scenario has a line saying what it covers, from its docstring or its name."""

from __future__ import annotations

from pathlib import Path

from harness.cutover_gate import recorded_scenarios
from harness.scenario_catalogue import scenario_descriptions


def test_every_recorded_scenario_is_described() -> None:
    descriptions = scenario_descriptions()
    assert set(descriptions) == recorded_scenarios()
    assert all(line.strip() for line in descriptions.values())


def test_the_first_paragraph_of_the_docstring_is_the_line(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "test_x.py").write_text(
        "@scenarios.add\n"
        "async def documented(world):\n"
        '    """A deletion runs\n    before analyses.\n\n    Details."""\n'
        "@scenarios.add_on_own_broker\n"
        "async def plain_name(world):\n"
        "    pass\n"
        "async def helper(world):\n"
        '    """Not a scenario."""\n'
    )
    assert scenario_descriptions(tmp_path) == {
        "scenarios/test_x.py::test_scenario[documented]": "A deletion runs before analyses.",
        "scenarios/test_x.py::test_scenario[plain_name]": "plain name",
    }
