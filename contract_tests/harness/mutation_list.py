"""The mistakes `make contract-mutants` plants, one at a time: each is one a queue migration
or an everyday change could make, and each must make a scenario fail.

Data that the runner (`harness.mutants`) reads: this module imports nothing of the harness.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mutation:
    """`old` is replaced by `new` (exactly once) in `path`; `scenarios` are pytest selections."""

    name: str
    what: str
    path: str
    old: str
    new: str
    scenarios: tuple[str, ...]


BROKER = "backend/src/mus/core/streaq_broker.py"
QUEUE_ADAPTER = "backend/src/mus/adapters/queue/streaq_job_queue.py"
WORKER = "backend/src/mus/worker.py"
FILE_JOBS = "backend/src/mus/jobs/file_system_jobs.py"
CREATED = "scenarios/test_file_created.py::test_scenario"
CHANGES = "scenarios/test_file_changes.py::test_scenario"

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        name="priority-reversed",
        what="streaq's priority list not reversed: low runs before high",
        path=QUEUE_ADAPTER,
        old="tuple(queue.value for queue in reversed(QUEUES_BY_PRIORITY))",
        new="tuple(queue.value for queue in QUEUES_BY_PRIORITY)",
        scenarios=("scenarios/test_priorities.py",),
    ),
    Mutation(
        name="deletion-at-low-on-streaq",
        what="file deletions enqueued at low priority, on streaq only",
        path=QUEUE_ADAPTER,
        old=".start(priority=queue.value)",
        new=(
            '.start(priority="low_priority" if task_name == "handle_file_deleted" else queue.value)'
        ),
        scenarios=("scenarios/test_priorities.py", f"{CHANGES}[deleted_file_leaves_the_library]"),
    ),
    Mutation(
        name="failures-dropped",
        what="the streaq adapter drops failed jobs from what it reports",
        path="contract_tests/harness/streaq_backend.py",
        old="noted = list(await asyncio.gather(*(result_of(entry) for entry in done)))",
        new="noted = [j for j in await asyncio.gather(*(result_of(e) for e in done)) if j.success]",
        scenarios=("scenarios/test_job_failures.py",),
    ),
    Mutation(
        name="failures-reported-as-success",
        what="the streaq job wrapper turns any exception into a successful result",
        path=BROKER,
        old="""        except BrokerUnavailableError as exc:
            raise StreaqRetry(str(exc), delay=BROKER_RETRY_SECONDS) from exc
""",
        new="""        except BrokerUnavailableError as exc:
            raise StreaqRetry(str(exc), delay=BROKER_RETRY_SECONDS) from exc
        except Exception as exc:
            return {"outcome": "error", "reason": str(exc)}
""",
        scenarios=("scenarios/test_job_failures.py",),
    ),
    Mutation(
        name="player-not-cleared",
        what="deleting a track leaves the player pointing at it",
        path=FILE_JOBS,
        old="        await PlayerStateRepository(session).forget_track(track.id)\n",
        new="",
        scenarios=("scenarios/test_player.py",),
    ),
    Mutation(
        name="event-order",
        what="a move onto new content publishes the move after the re-index",
        path=FILE_JOBS,
        old="""    await runtime.events.publish_track(EventType.TRACK_UPDATED, moved)
    if track.file_mtime is not None and stat.st_mtime != track.file_mtime:
        # A rename keeps mtime. A different one means other content arrived (or the OS
        # reused a freed inode for a new file): index it like a modification.
        reindexed = await _index_file(runtime, dest_path, "handle_file_moved")
""",
        new="""    if track.file_mtime is not None and stat.st_mtime != track.file_mtime:
        reindexed = await _index_file(runtime, dest_path, "handle_file_moved")
        await runtime.events.publish_track(EventType.TRACK_UPDATED, moved)
        return {"outcome": "moved", "track_id": track.id, "content": reindexed["outcome"]}
    await runtime.events.publish_track(EventType.TRACK_UPDATED, moved)
    if track.file_mtime is not None and stat.st_mtime != track.file_mtime:
        reindexed = await _index_file(runtime, dest_path, "handle_file_moved")
""",
        scenarios=(f"{CHANGES}[moved_file_arrives_with_new_content]",),
    ),
    Mutation(
        name="stale-skip-removed",
        what="a slow job queued for an older revision runs anyway",
        path="backend/src/mus/application/slow_analysis.py",
        old="    if revision is not None and revision != track.revision:\n",
        new="    if False:\n",
        scenarios=(f"{CHANGES}[stale_slow_job_is_skipped]",),
    ),
    Mutation(
        name="batch-stale-skip-removed",
        what="a batch analysis runs a track whose revision moved on since its files were indexed",
        path="backend/src/mus/application/batch_analysis.py",
        old="        elif wanted_revision is not None and wanted_revision != track.revision:\n",
        new="        elif False:\n",
        scenarios=(f"{CREATED}[files_of_a_batch_changed_before_its_analysis]",),
    ),
    Mutation(
        name="id3-version",
        what="tags normalised to ID3v2.4 instead of v2.3",
        path="backend/src/mus/adapters/scanner/tag_normaliser.py",
        old="tags.save(path, v2_version=3)",
        new="tags.save(path, v2_version=4)",
        scenarios=(f"{CREATED}[tagged_mp3_with_cover]",),
    ),
    Mutation(
        name="cover-format",
        what="covers stored as PNG under their .webp names",
        path="backend/src/mus/adapters/scanner/cover_store.py",
        old='image.save(buffer, format="WEBP", quality=quality, method=method)',
        new='image.save(buffer, format="PNG")',
        scenarios=(f"{CREATED}[flac_with_cover]",),
    ),
    Mutation(
        name="task-name",
        what="streaq tasks registered under a renamed job name the port does not enqueue",
        path=WORKER,
        old="worker.task(name=name, max_tries=MAX_TRIES)",
        new='worker.task(name=name.replace("_file_", "_"), max_tries=MAX_TRIES)',
        scenarios=(f"{CREATED}[tagged_mp3_with_cover]",),
    ),
    Mutation(
        name="analysis-on-the-high-queue",
        what="slow analysis routed to the high queue, where it delays file events",
        path="backend/src/mus/application/job_catalogue.py",
        old='    "process_slow_metadata": QueueName.LOW,',
        new='    "process_slow_metadata": QueueName.HIGH,',
        scenarios=("scenarios/test_priorities.py",),
    ),
)
