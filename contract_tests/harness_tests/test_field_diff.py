"""Field-level differences: the path names the field, both values are shown."""

from __future__ import annotations

from harness.field_diff import ABSENT, FieldDifference, field_differences


def test_equal_documents_have_no_differences() -> None:
    document = {"jobs": [{"queue": "high_priority", "tries": 1}], "player": {"volume": 1.0}}
    assert field_differences(document, document) == []


def test_a_changed_nested_field_is_named_by_its_path() -> None:
    recorded = {"jobs": [{"queue": "high_priority"}, {"queue": "low_priority"}]}
    observed = {"jobs": [{"queue": "high_priority"}, {"queue": "high_priority"}]}
    assert field_differences(recorded, observed) == [
        FieldDifference("jobs[1].queue", "low_priority", "high_priority")
    ]


def test_missing_and_extra_entries_show_as_absent() -> None:
    assert field_differences({"a": 1, "b": [1]}, {"b": [1, 2], "c": None}) == [
        FieldDifference("a", 1, ABSENT),
        FieldDifference("b[1]", ABSENT, 2),
        FieldDifference("c", ABSENT, None),
    ]


def test_no_recording_at_all_is_one_difference_for_the_document() -> None:
    assert field_differences(None, {"a": 1}) == [FieldDifference("<document>", None, {"a": 1})]
