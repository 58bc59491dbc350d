"""The enqueue port routes by the catalogue and refuses, at the call, what would sit lost."""

from __future__ import annotations

import pytest

from mus.application.job_catalogue import QueueName
from mus.application.job_queue import JobRejectedError, JobRequest, route_job, route_jobs

# The design's routing table (DESIGN.md section 3, backend/STATE_MACHINE.md), written out by
# hand: the one place a test pins which queue each job runs on.
QUEUE_OF_JOB: dict[str, str] = {
    "handle_file_created": "high_priority",
    "handle_files_created": "high_priority",
    "handle_file_deleted": "high_priority",
    "delete_track_with_files": "high_priority",
    "handle_file_modified": "medium_priority",
    "handle_file_moved": "medium_priority",
    "update_track_path_by_id": "medium_priority",
    "process_slow_metadata": "low_priority",
    "process_slow_metadata_batch": "low_priority",
}


@pytest.mark.parametrize(("task_name", "queue"), sorted(QUEUE_OF_JOB.items()))
def test_every_job_is_routed_to_its_queue(task_name: str, queue: str) -> None:
    assert route_job(task_name, {"track_id": 1}) is QueueName(queue)


def test_unknown_job_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(JobRejectedError, match=r"unknown job 'handle_file_exploded'.*known:"):
        route_job("handle_file_exploded", {})


def test_arguments_must_be_json_primitives() -> None:
    with pytest.raises(JobRejectedError, match="not JSON primitives"):
        route_job("handle_file_created", {"file_path": object()})
    with pytest.raises(JobRejectedError, match="not JSON primitives"):
        route_job("process_slow_metadata", {"track_id": float("nan")})


def test_a_batch_is_routed_in_order_and_one_invalid_job_refuses_it_naming_its_place() -> None:
    batch = [
        JobRequest("process_slow_metadata", {"track_id": 1}),
        JobRequest("handle_file_deleted", {"file_path": "a.mp3"}),
        JobRequest("handle_file_moved", {"src_path": "a.mp3", "dest_path": "b.mp3"}),
    ]
    assert route_jobs(batch) == [QueueName.LOW, QueueName.HIGH, QueueName.MEDIUM]
    with pytest.raises(JobRejectedError, match=r"^job 3 of 4 in the batch: unknown job 'nope'"):
        route_jobs([*batch[:2], JobRequest("nope", {}), batch[2]])
