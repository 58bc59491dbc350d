"""The same history on arq, then on streaq, each in its own World; where they differ.

One job at a time, the order jobs start in is fixed (highest priority first), so the two
documents must be equal. With a free worker, jobs of different priorities run at once and
finish in any order (streaq's one worker takes all priorities, arq's drain one queue after
the other), so what they publish and return may differ between two runs of one backend:
there the invariants are the property, and a document difference is reported as an
interleaving difference, counted and shown, not failed on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from generative.actions import History
from generative.replay import Run, run_history
from harness.determinism import first_difference
from harness.field_diff import FieldDifference, field_differences


@dataclass(frozen=True, slots=True)
class Comparison:
    history: History
    arq: Run
    streaq: Run
    differences: list[FieldDifference]

    @property
    def problems(self) -> list[str]:
        """What fails the history: broken invariants, and (one job at a time) differences."""
        found = [f"arq: {p}" for p in self.arq.problems]
        found += [f"streaq: {p}" for p in self.streaq.problems]
        if self.history.one_at_a_time:
            found += describe(self.differences)
        return found

    @property
    def interleaving_differences(self) -> list[str]:
        """Differences of a free worker's run: reported, since both backends race there."""
        return [] if self.history.one_at_a_time else describe(self.differences)


def describe(differences: list[FieldDifference]) -> list[str]:
    return [f"{d.path}: arq {d.recorded!r} -> streaq {d.observed!r}" for d in differences]


def run_on(history: History, backend: str) -> Run:
    """One backend's run, on an event loop of its own (Worlds never overlap in time)."""
    return asyncio.run(run_history(history, backend))


def compare(history: History) -> Comparison:
    arq = run_on(history, "arq")
    streaq = run_on(history, "streaq")
    return Comparison(history, arq, streaq, field_differences(arq.document, streaq.document))


def unstable_field(history: History, first: Run) -> str | None:
    """Run the history again on the same backend: the first field that changed, if any.

    A field that differs between two runs of one backend is a race, not a difference
    between the backends.
    """
    again = run_on(history, first.backend)
    return first_difference(
        {"document": first.document, "invariants": first.problems},
        {"document": again.document, "invariants": again.problems},
        first.backend,
    )
