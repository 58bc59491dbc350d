"""What N runs of both legs found, scenario by scenario: a regression differs on every run,
a race on some; the soak fails on both (a flake is named, never retried away)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.parity_results import BackendRun

BACKENDS = ("arq", "streaq")


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field of one scenario on one backend that differed from the arq recording."""

    scenario: str
    backend: str
    path: str
    recorded: Any
    observed_by_run: dict[int, Any]
    runs: int

    @property
    def kind(self) -> str:
        return "regression" if len(self.observed_by_run) == self.runs else "race"


@dataclass(slots=True)
class SoakVerdict:
    runs: int
    matched: dict[str, dict[str, int]] = field(default_factory=dict)  # scenario -> backend -> n
    failed_runs: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    differences: list[FieldDifference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(
            count == self.runs for counts in self.matched.values() for count in counts.values()
        )


def judge(
    runs: dict[int, dict[str, BackendRun | None]], leg_exits: dict[int, dict[str, int]]
) -> SoakVerdict:
    """Fold every run's per-scenario results into counts and per-field run lists."""
    verdict = SoakVerdict(runs=len(runs))
    scenarios = sorted(
        {
            result.scenario
            for legs in runs.values()
            for run in legs.values()
            if run is not None
            for result in run.results
        }
    )
    observed: dict[tuple[str, str, str], dict[int, Any]] = {}
    recorded: dict[tuple[str, str, str], Any] = {}
    for scenario in scenarios:
        verdict.matched[scenario] = dict.fromkeys(BACKENDS, 0)
        verdict.failed_runs[scenario] = {backend: [] for backend in BACKENDS}
    for index, legs in sorted(runs.items()):
        for backend in BACKENDS:
            run = legs.get(backend)
            exit_code = leg_exits.get(index, {}).get(backend)
            if run is None:
                verdict.problems.append(
                    f"run {index}, {backend}: no results (the leg exited {exit_code}; see its log)"
                )
                continue
            outcomes = {result.scenario: result for result in run.results}
            for scenario in scenarios:
                result = outcomes.get(scenario)
                if result is not None and result.outcome == "passed":
                    verdict.matched[scenario][backend] += 1
                    continue
                verdict.failed_runs[scenario][backend].append(index)
                if result is None:
                    verdict.problems.append(f"run {index}, {backend}: {scenario} did not run")
                    continue
                if not result.differences:
                    detail = result.detail.strip().splitlines()[-1:] or ["no detail"]
                    verdict.problems.append(
                        f"run {index}, {backend}: {scenario} failed without a field diff: "
                        f"{detail[0]}"
                    )
                for path, was, now in result.differences:
                    key = (scenario, backend, str(path))
                    observed.setdefault(key, {})[index] = now
                    recorded[key] = was
            if exit_code not in (0, None) and all(
                result.outcome == "passed" for result in run.results
            ):
                verdict.problems.append(
                    f"run {index}, {backend}: every scenario matched but the suite exited "
                    f"{exit_code} (coverage, inventory or a harness error: see its log)"
                )
    verdict.differences = [
        FieldDifference(scenario, backend, path, recorded[key], by_run, len(runs))
        for key, by_run in sorted(observed.items())
        for scenario, backend, path in [key]
    ]
    return verdict


def label(scenario: str) -> str:
    """`test_priorities.py::file_events_…` for `scenarios/test_priorities.py::test_scenario[…]`."""
    name = scenario.removeprefix("scenarios/").replace("::test_scenario[", "::")
    return name.removesuffix("]") if name != scenario else scenario


def short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(verdict: SoakVerdict) -> str:
    """The soak's report: counts per scenario, then every differing field with its runs."""
    runs = verdict.runs
    lines = [f"contract soak: {runs} run(s) of both legs", ""]
    width = max((len(label(name)) for name in verdict.matched), default=8)
    lines.append(f"{'scenario':<{width}}  " + "  ".join(f"{b:>8}" for b in BACKENDS))
    for scenario, counts in verdict.matched.items():
        marks = "  ".join(f"{f'{counts[b]}/{runs}':>8}" for b in BACKENDS)
        lines.append(f"{label(scenario):<{width}}  {marks}")
    lines.append("")
    if verdict.differences:
        lines.append("differences from the arq recording (regression: every run; race: some):")
        for difference in verdict.differences:
            run_list = ", ".join(str(index) for index in sorted(difference.observed_by_run))
            lines.append(
                f"- {difference.kind.upper()} {label(difference.scenario)} [{difference.backend}] "
                f"{difference.path}: runs {run_list} of {runs}; recorded "
                f"{short(difference.recorded)}"
            )
            for index, value in sorted(difference.observed_by_run.items()):
                lines.append(f"    run {index}: {short(value)}")
    for problem in verdict.problems:
        lines.append(f"- PROBLEM {problem}")
    lines.append("")
    lines.append(
        "contract soak: PASSED (every scenario matched on every run of both backends)"
        if verdict.passed
        else "contract soak: FAILED"
    )
    return "\n".join(lines) + "\n"
