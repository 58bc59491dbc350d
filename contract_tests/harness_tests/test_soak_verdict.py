"""The soak's verdict: counts per scenario, every differing field with its runs, race or
regression, and a failure on either."""

from __future__ import annotations

from typing import Any

from harness.parity_results import BackendRun, ScenarioResult
from harness.soak_verdict import judge, render

ADDED = "scenarios/test_event_storms.py::test_scenario[burst_of_100_creations]"
KEPT = "scenarios/test_player.py::test_scenario[player_keeps_a_track_moved_on_disk]"


def run(backend: str, *failures: tuple[str, list[list[Any]]]) -> BackendRun:
    failed = dict(failures)
    return BackendRun(
        backend=backend,
        backend_version="1",
        snapshots_digest="d",
        results=[
            ScenarioResult(
                scenario=name,
                outcome="failed" if name in failed else "passed",
                detail="snapshot differs" if name in failed else "",
                differences=failed.get(name, []),
            )
            for name in (ADDED, KEPT)
        ],
    )


RACE = (ADDED, [["events.<track Burst/007 Track.mp3>[0].type", "track_added", "track_updated"]])
REGRESSION = (KEPT, [["player.current_track_id", "<track a.ogg>", None]])


def test_every_run_matching_passes() -> None:
    verdict = judge(
        {
            1: {"arq": run("arq"), "streaq": run("streaq")},
            2: {"arq": run("arq"), "streaq": run("streaq")},
        },
        {1: {"arq": 0, "streaq": 0}, 2: {"arq": 0, "streaq": 0}},
    )
    assert verdict.passed
    assert verdict.matched == {ADDED: {"arq": 2, "streaq": 2}, KEPT: {"arq": 2, "streaq": 2}}
    assert "PASSED" in render(verdict)


def test_a_field_differing_on_some_runs_is_a_race_and_on_every_run_a_regression() -> None:
    runs = {
        1: {"arq": run("arq"), "streaq": run("streaq", REGRESSION)},
        2: {"arq": run("arq"), "streaq": run("streaq", RACE, REGRESSION)},
        3: {"arq": run("arq"), "streaq": run("streaq", REGRESSION)},
    }
    verdict = judge(runs, {index: {"arq": 0, "streaq": 1} for index in runs})
    assert not verdict.passed
    assert verdict.matched[ADDED] == {"arq": 3, "streaq": 2}
    assert verdict.matched[KEPT] == {"arq": 3, "streaq": 0}
    kinds = {(d.scenario, d.path): (d.kind, sorted(d.observed_by_run)) for d in verdict.differences}
    assert kinds == {
        (ADDED, RACE[1][0][0]): ("race", [2]),
        (KEPT, REGRESSION[1][0][0]): ("regression", [1, 2, 3]),
    }
    report = render(verdict)
    assert (
        "RACE test_event_storms.py::burst_of_100_creations [streaq] "
        "events.<track Burst/007 Track.mp3>[0].type: runs 2 of 3" in report
    )
    assert (
        "REGRESSION test_player.py::player_keeps_a_track_moved_on_disk [streaq] "
        "player.current_track_id: runs 1, 2, 3 of 3" in report
    )
    assert '    run 2: "track_updated"' in report
    assert report.rstrip().endswith("FAILED")


def test_a_leg_without_results_or_failing_beside_matching_scenarios_fails() -> None:
    verdict = judge(
        {1: {"arq": None, "streaq": run("streaq")}},
        {1: {"arq": 2, "streaq": 1}},
    )
    assert not verdict.passed
    assert verdict.problems == [
        "run 1, arq: no results (the leg exited 2; see its log)",
        "run 1, streaq: every scenario matched but the suite exited 1 (coverage, inventory or "
        "a harness error: see its log)",
    ]
