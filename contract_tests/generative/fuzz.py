"""`make contract-fuzz`: random histories on arq and on streaq, a difference shrunk and printed.

Hypothesis generates histories (`generative.strategies`), each runs on arq and then on
streaq in Worlds of their own; every invariant must hold and, one job at a time, the two
documents must be equal (`generative.compare`; a free worker's differences are reported as
interleavings). A failing history is shrunk to the smallest that still fails, replayed on
each backend once more (to tell a race from a backend difference), and printed as a
contract scenario. Exit 0 when no history failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import FlakyFailure
from hypothesis.internal.conjecture import engine

from generative.actions import History
from generative.compare import Comparison, compare, unstable_field
from generative.scenario_text import scenario_source
from generative.strategies import histories

DATABASE_DIR = Path(__file__).resolve().parents[1] / ".hypothesis-contract"
DEFAULT_HISTORIES = (
    220  # about 3 minutes on 2 cores when nothing fails (a failure adds its shrinking)
)
SHOWN_DIFFERENCES = 12
SHOWN_INTERLEAVINGS = 3
PROGRESS_EVERY = 50


class HistoryDiffersError(AssertionError):
    """The history's documents differ between the backends, or an invariant broke."""


@dataclass(slots=True)
class Tally:
    histories: int = 0
    actions: int = 0
    jobs: int = 0
    differing: int = 0
    last_failure: tuple[History, Comparison] | None = None
    interleavings: list[Comparison] = field(default_factory=list)

    def add(self, comparison: Comparison) -> None:
        self.histories += 1
        self.actions += comparison.arq.actions_run + comparison.streaq.actions_run
        self.jobs += comparison.arq.jobs + comparison.streaq.jobs


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="contract-fuzz", description=__doc__)
    parser.add_argument("--histories", type=int, default=DEFAULT_HISTORIES)
    parser.add_argument("--max-actions", type=int, default=12, help="actions per history")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (printed by each)")
    parser.add_argument(
        "--no-database",
        action="store_true",
        help="ignore the saved examples: the seed alone decides the histories",
    )
    parser.add_argument(
        "--shrink-seconds",
        type=int,
        default=engine.MAX_SHRINKING_SECONDS,
        help="stop shrinking after this long (Hypothesis's own default: 300)",
    )
    parser.add_argument(
        "--name", default="fuzz_found_difference", help="the printed scenario's name"
    )
    return parser.parse_args(argv)


def interleavings(comparisons: list[Comparison]) -> str:
    """The free-worker differences, each replayed on streaq alone: a race or not."""
    lines = []
    for comparison in comparisons[:SHOWN_INTERLEAVINGS]:
        first = comparison.interleaving_differences[0]
        unstable = unstable_field(comparison.history, comparison.streaq)
        verdict = "streaq differs from itself: a race" if unstable else "streaq repeats itself"
        lines.append(f"  interleaving: {first}\n    ({verdict}) in {comparison.history!r}")
    if len(comparisons) > SHOWN_INTERLEAVINGS:
        lines.append(f"  … and {len(comparisons) - SHOWN_INTERLEAVINGS} more")
    return "\n".join(lines)


def explain(history: History, comparison: Comparison, run_seed: int | None, name: str) -> str:
    """What differs, whether it is a race (a backend against itself), and the scenario."""
    lines = ["", f"contract-fuzz: the smallest failing history ({len(history.actions)} actions):"]
    problems = comparison.problems
    lines += [f"  {problem}" for problem in problems[:SHOWN_DIFFERENCES]]
    if len(problems) > SHOWN_DIFFERENCES:
        lines.append(f"  … and {len(problems) - SHOWN_DIFFERENCES} more")
    for run in (comparison.arq, comparison.streaq):
        unstable = unstable_field(history, run)
        verdict = f"differs from itself at {unstable} (a race)" if unstable else "repeats itself"
        lines.append(f"  replayed on {run.backend} alone: {verdict}")
    lines += ["", "contract-fuzz: as a contract scenario (arq's calls, as run):", ""]
    lines.append(scenario_source(name, comparison.arq.transcript, comparison.differences, run_seed))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.getLogger("mus").setLevel(logging.CRITICAL)  # failures are recorded, not logged
    run_seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    engine.MAX_SHRINKING_SECONDS = args.shrink_seconds  # Hypothesis has no setting for it
    database = None if args.no_database else DirectoryBasedExampleDatabase(str(DATABASE_DIR))
    tally = Tally()
    print(
        f"contract-fuzz: seed {run_seed} (replay: make contract-fuzz SEED={run_seed}); "
        f"{args.histories} histories of up to {args.max_actions} actions",
        flush=True,
    )

    started = time.monotonic()

    @seed(run_seed)
    @settings(
        max_examples=args.histories,
        database=database,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        verbosity=Verbosity.debug if os.environ.get("MUS_FUZZ_DEBUG") else Verbosity.quiet,
        print_blob=False,
    )
    @given(histories(args.max_actions))
    def same_on_both_backends(history: History) -> None:
        comparison = compare(history)
        tally.add(comparison)
        if tally.histories % PROGRESS_EVERY == 0:
            print(
                f"  … {tally.histories} histories, {tally.jobs} jobs, "
                f"{tally.differing} failing, {time.monotonic() - started:.0f} s",
                flush=True,
            )
        seen = {repr(c.history) for c in tally.interleavings}  # Hypothesis replays examples
        if comparison.interleaving_differences and repr(history) not in seen:
            tally.interleavings.append(comparison)
        if not comparison.problems:
            return
        tally.differing += 1
        tally.last_failure = (history, comparison)
        raise HistoryDiffersError(comparison.problems[0])

    failed = flaky = False
    try:
        same_on_both_backends()
    except HistoryDiffersError:
        failed = True
    except FlakyFailure:
        failed = flaky = True
    seconds = time.monotonic() - started
    found = "no difference found"
    if failed:
        found = "1 difference found, " + ("did not repeat" if flaky else "shrunk")
    print(
        f"contract-fuzz: {tally.histories} histories run, {tally.actions} actions run, "
        f"{tally.jobs} jobs executed, {tally.differing} differing histories ({found}), "
        f"{len(tally.interleavings)} free-worker histories whose documents differed "
        f"(interleavings, reported below, not failed on), {seconds:.0f} s",
        flush=True,
    )
    if tally.interleavings:
        print(interleavings(tally.interleavings), flush=True)
    if failed and tally.last_failure is not None:
        history, comparison = tally.last_failure
        print(explain(history, comparison, run_seed, args.name), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
