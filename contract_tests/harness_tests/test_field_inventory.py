"""The over-normalising guard: a field the same in every recording must say why."""

from __future__ import annotations

from typing import Any

from harness.field_inventory import allowed, constant_fields, inventory_problems, leaves


def recordings(**fields: Any) -> dict[str, Any]:
    return {f"r{i}": {"tracks": [{"title": f"t{i}", **fields}]} for i in range(3)}


def test_leaves_fold_positions_and_track_labels() -> None:
    document = {"events": {"<track a>": [{"type": "x"}]}, "tracks": [{"id": 1}, {"id": 2}]}
    assert list(leaves(document)) == [
        ("events.*[].type", "x"),
        ("tracks[].id", 1),
        ("tracks[].id", 2),
    ]


def test_a_normalised_constant_is_a_problem_unless_listed() -> None:
    docs = recordings(added_at="<timestamp>")
    assert constant_fields(docs) == {"tracks[].added_at": '"<timestamp>"'}
    [problem] = inventory_problems(docs, {})
    assert problem.startswith('field tracks[].added_at is "<timestamp>" in every recording')
    assert inventory_problems(docs, {"tracks[].added_at": "wall-clock time"}) == []


def test_a_field_that_is_null_here_and_a_document_there_varies() -> None:
    docs = recordings(last_error=None)
    docs["r9"] = {"tracks": [{"title": "x", "last_error": {"job_name": "a"}}]}
    assert "tracks[].last_error" not in constant_fields(docs)


def test_a_listed_field_that_varies_now_is_a_stale_entry() -> None:
    [problem] = inventory_problems(recordings(), {"tracks[].title": "was constant"})
    assert "lists tracks[].title, which now varies or is gone" in problem


def test_every_entry_of_the_allow_list_has_a_reason() -> None:
    entries = allowed()
    assert entries
    assert all(reason.strip() for reason in entries.values())
