"""The operator's figures computed from streaq's results: durations per job, slowest first."""

from __future__ import annotations

from streaq.task import TaskResult

from mus.adapters.queue.streaq_operator import durations_by_job
from mus.core.queue_figures import JobDurations


def result(job: str, start: int, finish: int, *, success: bool = True) -> TaskResult[object]:
    return TaskResult(
        task_id=f"{job}-{start}",
        fn_name=job,
        created_time=0,
        enqueue_time=0,
        success=success,
        start_time=start,
        finish_time=finish,
        tries=1,
        worker_id="w",
        _result=None,
    )


def test_durations_are_grouped_by_job_with_failures_counted() -> None:
    results = [
        result("handle_file_created", 0, 10),
        result("process_slow_metadata", 0, 300),
        result("process_slow_metadata", 100, 200, success=False),
        result("handle_file_created", 5, 35),
    ]
    assert durations_by_job(results) == [
        JobDurations("process_slow_metadata", runs=2, failed=1, mean_ms=200.0, max_ms=300.0),
        JobDurations("handle_file_created", runs=2, failed=0, mean_ms=20.0, max_ms=30.0),
    ]
    assert durations_by_job([]) == []
