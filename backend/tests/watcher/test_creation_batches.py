"""The creations of one watcher batch become batch jobs; a lone one stays a small job."""

from __future__ import annotations

from mus.application.job_queue import JobRequest
from mus.watcher.creation_batches import batch_creations


def created(path: str) -> JobRequest:
    return JobRequest("handle_file_created", {"file_path": path})


def shape(requests: list[JobRequest]) -> list[tuple[str, object]]:
    return [(request.task_name, dict(request.kwargs)) for request in requests]


def test_a_lone_creation_stays_one_job() -> None:
    requests = [JobRequest("handle_file_deleted", {"file_path": "old.mp3"}), created("new.mp3")]
    assert batch_creations(requests, 50) == requests


def test_creations_become_batches_where_the_first_stood_and_the_rest_keep_their_order() -> None:
    moved = JobRequest("handle_file_moved", {"src_path": "a.mp3", "dest_path": "b.mp3"})
    deleted = JobRequest("handle_file_deleted", {"file_path": "gone.mp3"})
    modified = JobRequest("handle_file_modified", {"file_path": "kept.mp3"})
    new = [f"Album/{number:02d}.mp3" for number in range(5)]
    requests = [moved, deleted, *(created(path) for path in new), modified]
    assert shape(batch_creations(requests, 2)) == [
        ("handle_file_moved", {"src_path": "a.mp3", "dest_path": "b.mp3"}),
        ("handle_file_deleted", {"file_path": "gone.mp3"}),
        ("handle_files_created", {"file_paths": new[0:2]}),
        ("handle_files_created", {"file_paths": new[2:4]}),
        ("handle_file_created", {"file_path": new[4]}),  # the last one left alone
        ("handle_file_modified", {"file_path": "kept.mp3"}),
    ]


def test_a_batch_size_of_one_keeps_a_job_per_file() -> None:
    requests = [created("a.mp3"), created("b.mp3")]
    assert batch_creations(requests, 1) == requests


def test_every_path_is_in_exactly_one_job() -> None:
    new = [f"{number}.flac" for number in range(123)]
    jobs = batch_creations([created(path) for path in new], 50)
    paths = [
        path
        for job in jobs
        for path in (
            job.kwargs["file_paths"] if "file_paths" in job.kwargs else [job.kwargs["file_path"]]
        )
    ]
    assert paths == new
    assert [len(job.kwargs.get("file_paths", [None])) for job in jobs] == [50, 50, 23]
