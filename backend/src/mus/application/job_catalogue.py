"""Which job runs on which queue: the routing table of backend/STATE_MACHINE.md, as data."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    """The three named queues; a worker consumes them highest first."""

    HIGH = "high_priority"
    MEDIUM = "medium_priority"
    LOW = "low_priority"


# Highest priority first: the order one worker drains them in.
QUEUES_BY_PRIORITY: tuple[QueueName, ...] = (QueueName.HIGH, QueueName.MEDIUM, QueueName.LOW)

JOB_QUEUES: dict[str, QueueName] = {
    "handle_file_created": QueueName.HIGH,
    "handle_files_created": QueueName.HIGH,
    "handle_file_deleted": QueueName.HIGH,
    "delete_track_with_files": QueueName.HIGH,
    "handle_file_modified": QueueName.MEDIUM,
    "handle_file_moved": QueueName.MEDIUM,
    "update_track_path_by_id": QueueName.MEDIUM,
    "process_slow_metadata": QueueName.LOW,
    "process_slow_metadata_batch": QueueName.LOW,
}


def jobs_on(queue: QueueName) -> tuple[str, ...]:
    """Names of the jobs routed to `queue`, sorted."""
    return tuple(sorted(name for name, home in JOB_QUEUES.items() if home is queue))
