"""The recorder's job records: observed order as runs of one queue, failures as documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.normaliser import Normaliser
from harness.queue_backend import ExecutedJob
from harness.recorder import executed_jobs, run_order


def job(queue: str, task: str, started: int | None, **extra: Any) -> ExecutedJob:
    fields: dict[str, Any] = {"kwargs": {}, "success": True, "outcome": None, "tries": 1}
    fields.update(extra)
    return ExecutedJob(queue=queue, task=task, started=started, **fields)


def test_run_order_is_runs_of_one_queue_in_start_order() -> None:
    jobs = [
        job("low_priority", "process_slow_metadata", 3),
        job("high_priority", "handle_file_deleted", 1),
        job("high_priority", "handle_file_created", 0),
        job("medium_priority", "handle_file_modified", 2),
        job("low_priority", "process_slow_metadata", 4),
        job("high_priority", "handle_file_created", None),  # another process ran it
    ]
    assert run_order(jobs) == [
        "high_priority: handle_file_created x 1, handle_file_deleted x 1",
        "medium_priority: handle_file_modified x 1",
        "low_priority: process_slow_metadata x 2",
    ]


def test_low_before_high_is_a_different_run_order() -> None:
    right = [job("high_priority", "a", 0), job("low_priority", "b", 1)]
    wrong = [job("high_priority", "a", 1), job("low_priority", "b", 0)]
    assert run_order(right) != run_order(wrong)


def test_a_failure_is_recorded_with_error_class_message_and_tries() -> None:
    normaliser = Normaliser(Path("/d"), Path("/d/music"), {3: "a.mp3"})
    failed = job(
        "low_priority",
        "process_slow_metadata",
        0,
        kwargs={"track_id": 3},
        success=False,
        outcome={"error": "TypeError", "message": "bad argument"},
        tries=2,
    )
    assert executed_jobs([failed], normaliser) == [
        {
            "queue": "low_priority",
            "task": "process_slow_metadata",
            "kwargs": {"track_id": "<track a.mp3>"},
            "success": False,
            "outcome": {"error": "TypeError", "message": "bad argument"},
            "tries": 2,
        }
    ]
