"""Every job function by task name (= function name); each backend's wiring registers these,
each one waiting out transient resource faults (`jobs/resource_wait.py`)."""

from __future__ import annotations

from mus.application.job_catalogue import JOB_QUEUES
from mus.jobs import file_system_jobs, metadata_jobs
from mus.jobs.job_types import JobFunction
from mus.jobs.resource_wait import waiting_out_resource_faults

__all__ = ["JOBS", "JobFunction"]

JOBS: dict[str, JobFunction] = {
    job.__name__: waiting_out_resource_faults(job)
    for job in (
        file_system_jobs.handle_file_created,
        file_system_jobs.handle_files_created,
        file_system_jobs.handle_file_modified,
        file_system_jobs.handle_file_deleted,
        file_system_jobs.handle_file_moved,
        file_system_jobs.delete_track_with_files,
        file_system_jobs.update_track_path_by_id,
        metadata_jobs.process_slow_metadata,
        metadata_jobs.process_slow_metadata_batch,
    )
}

if set(JOBS) != set(JOB_QUEUES):  # pragma: no cover - caught by the first import in any test
    raise RuntimeError(f"job registry and queue routing disagree: {set(JOBS) ^ set(JOB_QUEUES)}")
