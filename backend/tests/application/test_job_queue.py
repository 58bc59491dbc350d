"""The enqueue port refuses, at the call, what would sit lost in Redis."""

from __future__ import annotations

import pytest

from mus.application.job_queue import UnknownJobError, check_job
from mus.infrastructure.jobs.job_catalogue import JOB_QUEUES, QueueName, jobs_on


def test_every_job_is_accepted_on_its_own_queue() -> None:
    for task_name, queue in JOB_QUEUES.items():
        assert check_job(queue.value, task_name, {"track_id": 1}) is queue


def test_unknown_queue_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownJobError, match=r"unknown queue 'urgent'.*high_priority"):
        check_job("urgent", "handle_file_created", {})


def test_unknown_job_is_refused() -> None:
    with pytest.raises(UnknownJobError, match=r"unknown job 'handle_file_exploded'"):
        check_job("high_priority", "handle_file_exploded", {})


def test_job_on_another_queue_is_refused() -> None:
    with pytest.raises(UnknownJobError, match=r"runs on 'low_priority', not on 'high_priority'"):
        check_job("high_priority", "process_slow_metadata", {"track_id": 1})


def test_arguments_must_be_json_primitives() -> None:
    with pytest.raises(UnknownJobError, match="not JSON primitives"):
        check_job("high_priority", "handle_file_created", {"file_path": object()})
    with pytest.raises(UnknownJobError, match="not JSON primitives"):
        check_job("low_priority", "process_slow_metadata", {"track_id": float("nan")})


def test_routing_matches_the_design_table() -> None:
    assert jobs_on(QueueName.HIGH) == (
        "delete_track_with_files",
        "handle_file_created",
        "handle_file_deleted",
    )
    assert jobs_on(QueueName.MEDIUM) == (
        "handle_file_modified",
        "handle_file_moved",
        "update_track_path_by_id",
    )
    assert jobs_on(QueueName.LOW) == ("process_slow_metadata", "process_slow_metadata_batch")
