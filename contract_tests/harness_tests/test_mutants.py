"""The planted mistakes stay plantable: each applies to exactly one place of today's code."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.mutants import REPO_ROOT, apply
from harness.mutation_list import MUTATIONS, Mutation


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_every_mutation_applies_once_to_the_current_code(mutation: Mutation) -> None:
    text = (REPO_ROOT / mutation.path).read_text()
    assert text.count(mutation.old) == 1, f"{mutation.name}: text not found once"
    assert mutation.old != mutation.new
    assert mutation.scenarios


def test_the_list_covers_the_ten_mistakes_of_the_issue_and_names_are_unique() -> None:
    names = [mutation.name for mutation in MUTATIONS]
    assert len(names) == len(set(names))
    assert len(MUTATIONS) >= 10


def test_a_mutation_that_no_longer_applies_stops_the_run_in_one_sentence(tmp_path: Path) -> None:
    target = tmp_path / "backend/src/mus/x.py"
    target.parent.mkdir(parents=True)
    target.write_text("a = 1\n")
    stale = Mutation("stale", "gone", "backend/src/mus/x.py", "b = 2", "b = 3", ("scenarios",))
    with pytest.raises(SystemExit, match="mutation 'stale' no longer applies"):
        apply(stale, tmp_path)
    fresh = Mutation("fresh", "one", "backend/src/mus/x.py", "a = 1", "a = 2", ("scenarios",))
    apply(fresh, tmp_path)
    assert target.read_text() == "a = 2\n"
