"""The catalogue knows every job and its queue; the registry of job functions agrees with it."""

from __future__ import annotations

from mus.application.job_catalogue import JOB_QUEUES, QUEUES_BY_PRIORITY, QueueName, jobs_on
from mus.jobs.registry import JOBS

from tests.application.test_job_queue import QUEUE_OF_JOB


def test_the_catalogue_is_the_design_table() -> None:
    assert {name: queue.value for name, queue in JOB_QUEUES.items()} == QUEUE_OF_JOB


def test_every_catalogued_job_has_a_function_and_no_other() -> None:
    assert set(JOBS) == set(JOB_QUEUES)


def test_queues_are_listed_highest_first() -> None:
    assert QUEUES_BY_PRIORITY == (QueueName.HIGH, QueueName.MEDIUM, QueueName.LOW)
    assert jobs_on(QueueName.LOW) == ("process_slow_metadata", "process_slow_metadata_batch")
