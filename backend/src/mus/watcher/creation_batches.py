"""New files seen together become batch jobs: one index job (and one analysis) per batch.

A copy of an album collection reaches the watcher as OS batches of many created files; one
`handle_file_created` each cost a small transaction per file in the workers (measured: most
of their time). The creations of one OS batch go out as `handle_files_created` jobs of up
to `batch_files` paths, where the batch's first creation stood, so the order of the other
jobs around them is kept. A lone new file stays one small job: its latency does not grow.
How long an OS batch may fill is the watcher's debounce (400 ms at most, closed after 50 ms
without a change): a file is never held back to fill a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from mus.application.job_queue import JobRequest

CREATED = "handle_file_created"
CREATED_TOGETHER = "handle_files_created"


def batch_creations(requests: Sequence[JobRequest], batch_files: int) -> list[JobRequest]:
    """`requests` with two or more creations replaced by batch jobs of up to `batch_files`."""
    created = [
        str(request.kwargs["file_path"]) for request in requests if request.task_name == CREATED
    ]
    if len(created) < 2 or batch_files < 2:
        return list(requests)
    batches = [
        JobRequest(CREATED_TOGETHER, {"file_paths": created[start : start + batch_files]})
        if len(created[start : start + batch_files]) > 1
        else JobRequest(CREATED, {"file_path": created[start]})
        for start in range(0, len(created), batch_files)
    ]
    found: list[JobRequest] = []
    for request in requests:
        if request.task_name != CREATED:
            found.append(request)
        elif batches:
            found += batches
            batches = []
    return found
