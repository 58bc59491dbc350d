"""The same history on arq, then on streaq, each in its own World; where they differ."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from generative.actions import History
from generative.replay import Run, run_history
from harness.determinism import first_difference
from harness.field_diff import FieldDifference, field_differences

BACKENDS = ("arq", "streaq")


@dataclass(frozen=True, slots=True)
class Comparison:
    arq: Run
    streaq: Run
    differences: list[FieldDifference]

    @property
    def problems(self) -> list[str]:
        """Invariants broken on either side, then the field-level differences."""
        found = [f"arq: {p}" for p in self.arq.problems]
        found += [f"streaq: {p}" for p in self.streaq.problems]
        found += [
            f"{d.path}: arq {d.recorded!r} -> streaq {d.observed!r}" for d in self.differences
        ]
        return found


def run_on(history: History, backend: str) -> Run:
    """One backend's run, on an event loop of its own (Worlds never overlap in time)."""
    return asyncio.run(run_history(history, backend))


def compare(history: History) -> Comparison:
    arq = run_on(history, "arq")
    streaq = run_on(history, "streaq")
    return Comparison(arq, streaq, field_differences(arq.document, streaq.document))


def unstable_field(history: History, first: Run) -> str | None:
    """Run the history again on the same backend: the first field that changed, if any.

    A field that differs between two runs of one backend is a race (jobs at concurrency > 1
    finishing in another order), not a difference between the backends.
    """
    again = run_on(history, first.backend)
    return first_difference(
        {"document": first.document, "invariants": first.problems},
        {"document": again.document, "invariants": again.problems},
        first.backend,
    )
