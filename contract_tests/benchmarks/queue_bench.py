"""arq (the baseline) and streaq side by side on one Redis, each as deployed: figures, never
a verdict.

`make bench` runs it from contract_tests/ (arq is a test-only dependency there). Every
measurement starts the backend's real worker processes on a fresh data folder and an empty
Redis database, and stops them after (SIGTERM, then SIGKILL). arq runs as it was deployed,
one `arq` worker process per queue (max_jobs 10 each); streaq as mus deploys it,
MUS_WORKER_PROCESSES processes (default: the cores) of `streaq run`, MUS_WORKER_CONCURRENCY
each. Job times (enqueue, start, finish) are each backend's own, read from its result store.

Sections (--only): enqueue (one by one, and in batches through enqueue_many), run (no-op
jobs run per second), files (N new files listed and COMPLETE), copy (N files copied into
the watched folder as one copy, seen by the real api's watcher: listed and COMPLETE),
wait (high-priority jobs behind a low-priority backlog), pickup (idle pickup latency),
recovery (after a SIGKILL of the workers), memory (RSS of workers and api after 2 x N
files; off unless --memory), large (the files and copy rows with --large-files, 10,000 by
default; only with --large, as arq takes minutes).
The table is printed and written to contract_tests/report/bench.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.bench_header import header_lines
from benchmarks.bench_jobs import route_bench_jobs
from benchmarks.bench_table import Better, Row, markdown_table, percentile, rate
from benchmarks.bench_world import CONTRACT_ROOT
from benchmarks.deployments import ArqDeployment, Deployment, StreaqDeployment
from benchmarks.measures import (
    LARGE_FILES_SECONDS,
    FilesFigures,
    MemoryFigures,
    files_to_complete,
    high_priority_waits,
    idle_pickup,
    memory_after_files,
    noop_batches,
    noop_one_by_one,
    recovery_after_kill,
)
from benchmarks.watched_copy import CopyFigures, copy_into_watched_folder
from mus.core.config import get_settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
REPORT_PATH = CONTRACT_ROOT / "report" / "bench.md"
SECTIONS = ("enqueue", "run", "files", "copy", "wait", "pickup", "recovery", "memory", "large")
OPT_IN_SECTIONS = ("memory", "large")
"""Sections that take many minutes: each runs only when its flag (--memory, --large) asks."""
DEFAULT_SECTIONS = tuple(name for name in SECTIONS if name not in OPT_IN_SECTIONS)


class Bench:
    """Runs the chosen sections on both backends, noting each section's duration."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.deployments: list[Deployment] = [ArqDeployment(), StreaqDeployment(get_settings())]
        self.rows: list[Row] = []
        self.durations: list[str] = []

    async def both(
        self, section: str, measure: Callable[[Deployment], Awaitable[Any]]
    ) -> list[Any]:
        """`measure` on arq, then on streaq; timed, with a progress line on stderr."""
        found = []
        for deployment in self.deployments:
            print(f"{section}: {deployment.name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            found.append(await measure(deployment))
            seconds = time.perf_counter() - started
            self.durations.append(f"{section} ({deployment.name}) {seconds:.1f}s")
        return found

    async def run(self, sections: list[str]) -> None:
        args = self.args
        url = args.redis_url
        jobs = args.noop_jobs
        if "enqueue" in sections or "run" in sections:
            arq, streaq = await self.both("no-op", lambda d: noop_one_by_one(d, url, jobs))
            if "enqueue" in sections:
                self.rows.append(
                    Row(
                        f"no-op jobs enqueued/s, one by one through the port ({jobs:,})",
                        arq.enqueued_per_second,
                        streaq.enqueued_per_second,
                        Better.HIGHER,
                    )
                )
                arq_many, streaq_many = await self.both(
                    "enqueue_many", lambda d: noop_batches(d, url, jobs, args.batch)
                )
                self.rows.append(
                    Row(
                        f"no-op jobs enqueued/s, enqueue_many of {args.batch:,} ({jobs:,})",
                        arq_many,
                        streaq_many,
                        Better.HIGHER,
                    )
                )
            if "run" in sections:
                self.rows.append(
                    Row(
                        f"no-op jobs run/s ({jobs:,} pre-enqueued; first start to last finish)",
                        arq.run_per_second,
                        streaq.run_per_second,
                        Better.HIGHER,
                    )
                )
        if "files" in sections:
            files = await self.both("files", lambda d: files_to_complete(d, url, args.files))
            self.files_rows(args.files, files[0], files[1])
        if "copy" in sections:
            copies = await self.both("copy", lambda d: copy_into_watched_folder(d, url, args.files))
            self.copy_rows(args.files, copies[0], copies[1])
        if "wait" in sections:
            waits = await self.both(
                "wait",
                lambda d: high_priority_waits(
                    d, url, args.backlog, args.probes, args.backlog_job_ms
                ),
            )
            label = f"high-priority wait behind {args.backlog:,} low ({args.backlog_job_ms} ms)"
            self.percentile_rows(label, waits[0], waits[1])
        if "pickup" in sections:
            pickups = await self.both("pickup", lambda d: idle_pickup(d, url, args.pickup_samples))
            label = f"idle pickup, enqueue to start ({args.pickup_samples} samples)"
            self.percentile_rows(label, pickups[0], pickups[1])
        if "recovery" in sections:
            seconds = await self.both(
                "recovery", lambda d: recovery_after_kill(d, url, args.recovery_files)
            )
            label = f"recovery: workers SIGKILLed mid-run, {args.recovery_files} files, s"
            self.rows.append(Row(label, seconds[0], seconds[1], Better.LOWER))
        if "memory" in sections:
            chosen = set(args.memory_backends)

            async def memory_of(deployment: Deployment) -> MemoryFigures | None:
                if deployment.name not in chosen:
                    return None
                return await memory_after_files(deployment, url, args.memory_files)

            memory = await self.both("memory", memory_of)
            self.memory_rows(memory[0], memory[1])
        if "large" in sections:
            large = args.large_files
            files = await self.both(
                "large files",
                lambda d: files_to_complete(d, url, large, LARGE_FILES_SECONDS),
            )
            self.files_rows(large, files[0], files[1])
            copies = await self.both(
                "large copy",
                lambda d: copy_into_watched_folder(d, url, large, LARGE_FILES_SECONDS),
            )
            self.copy_rows(large, copies[0], copies[1])

    def files_rows(self, files: int, arq: FilesFigures, streaq: FilesFigures) -> None:
        """The rows of `files` files sent through the port, one job each."""
        self.rows += [
            Row(
                f"{files:,} new files all listed (PENDING), s",
                arq.listed_seconds,
                streaq.listed_seconds,
                Better.LOWER,
            ),
            Row(
                f"{files:,} new files to COMPLETE, s",
                arq.complete_seconds,
                streaq.complete_seconds,
                Better.LOWER,
            ),
            Row(
                "  files to COMPLETE per second",
                rate(files, arq.complete_seconds),
                rate(files, streaq.complete_seconds),
                Better.HIGHER,
            ),
            Row("  outcome", arq.outcome, streaq.outcome),
        ]

    def copy_rows(self, files: int, arq: CopyFigures, streaq: CopyFigures) -> None:
        """The rows of `files` files copied into the watched folder; the copy's own seconds
        (no ratio: both backends copy the same bytes) say how much of the time is the disk."""
        label = f"{files:,} files copied into the watched folder"
        self.rows += [
            Row(
                f"{label}, all listed, s",
                arq.listed_seconds,
                streaq.listed_seconds,
                Better.LOWER,
            ),
            Row(
                f"{label}, to COMPLETE, s",
                arq.complete_seconds,
                streaq.complete_seconds,
                Better.LOWER,
            ),
            Row(
                "  copied files to COMPLETE per second",
                rate(files, arq.complete_seconds),
                rate(files, streaq.complete_seconds),
                Better.HIGHER,
            ),
            Row(
                "  the copy itself (shutil.copytree), s",
                arq.copy_seconds,
                streaq.copy_seconds,
                digits=2,
            ),
            Row("  outcome", arq.outcome, streaq.outcome),
        ]

    def percentile_rows(self, label: str, arq: list[float], streaq: list[float]) -> None:
        for name, fraction in (("p50", 0.5), ("p95", 0.95)):
            self.rows.append(
                Row(
                    f"{label}, {name} ms",
                    percentile(arq, fraction),
                    percentile(streaq, fraction),
                    Better.LOWER,
                )
            )

    def memory_rows(self, arq: MemoryFigures | None, streaq: MemoryFigures | None) -> None:
        """The memory rows; a backend left out (--memory-backends) reads n/a."""
        files = self.args.memory_files

        def row(
            label: str, pick: Callable[[MemoryFigures], float], better: Better | None = Better.LOWER
        ) -> Row:
            return Row(
                label,
                "n/a" if arq is None else pick(arq),
                "n/a" if streaq is None else pick(streaq),
                better,
            )

        first, second = f"after {files:,} files", f"after {2 * files:,} files"
        self.rows += [
            row(f"RSS {first}: workers, sum MiB", lambda m: m.workers_first.total_mib),
            row(f"RSS {first}: workers, largest MiB", lambda m: m.workers_first.largest_mib),
            row(f"RSS {first}: api MiB", lambda m: m.api_first.total_mib),
            row(f"RSS {second}: workers, sum MiB", lambda m: m.workers_second.total_mib),
            row(f"RSS {second}: workers, largest MiB", lambda m: m.workers_second.largest_mib),
            row(f"RSS {second}: api MiB", lambda m: m.api_second.total_mib),
            row(
                "RSS growth, second batch: workers sum MiB",
                lambda m: m.workers_second.total_mib - m.workers_first.total_mib,
                None,
            ),
            row(
                "RSS growth, second batch: api MiB",
                lambda m: m.api_second.total_mib - m.api_first.total_mib,
                None,
            ),
            row(
                f"  first {files:,} analysed, from process start (start-up scan), s",
                lambda m: m.seconds_first,
            ),
            row(
                f"  second {files:,} analysed, from first move-in (watcher), s",
                lambda m: m.seconds_second,
            ),
        ]

    def report(self, started: float) -> str:
        backends = {d.name: d.describe() for d in self.deployments}
        lines = ["# mus queue benchmark: arq (baseline) vs streaq, each as deployed", ""]
        lines += header_lines(self.args.redis_url, backends)
        lines += [
            "- job times (enqueue, start, finish) are each backend's own, from its result store",
            "",
            markdown_table(self.rows),
            "",
            f"Sections: {', '.join(self.durations)}; total {time.perf_counter() - started:.0f}s.",
        ]
        return "\n".join(lines) + "\n"


def chosen_sections(args: argparse.Namespace) -> list[str]:
    """--only (or the default sections), with --memory/--no-memory applied; `large` only
    with --large, which adds it, so minutes of arq are never spent unasked."""
    sections = list(args.only or DEFAULT_SECTIONS)
    if args.memory and "memory" not in sections:
        sections.append("memory")
    if args.memory is False and "memory" in sections:
        sections.remove("memory")
    if args.large and "large" not in sections:
        sections.append("large")
    if not args.large and "large" in sections:
        raise SystemExit("queue bench: the large section runs only with --large")
    return sections


async def run(args: argparse.Namespace) -> str:
    """The report's text, once every chosen section has run."""
    route_bench_jobs()
    started = time.perf_counter()
    bench = Bench(args)
    await bench.run(chosen_sections(args))
    return bench.report(started)


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every started process is stopped on the way out."""

    def interrupt(_number: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    found.add_argument(
        "--redis-url",
        default=os.environ.get("MUS_BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="a Redis database of its own: it is flushed (default %(default)s)",
    )
    found.add_argument("--noop-jobs", type=int, default=2000)
    found.add_argument("--batch", type=int, default=500, help="jobs per enqueue_many call")
    found.add_argument("--files", type=int, default=1000)
    found.add_argument("--backlog", type=int, default=2000)
    found.add_argument("--backlog-job-ms", type=int, default=20)
    found.add_argument("--probes", type=int, default=40)
    found.add_argument("--pickup-samples", type=int, default=200)
    found.add_argument("--recovery-files", type=int, default=40)
    found.add_argument("--memory-files", type=int, default=10_000)
    found.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the memory section (2 x --memory-files files per backend): off by default, "
        "as it takes many minutes at today's analysis speed",
    )
    found.add_argument(
        "--large",
        action="store_true",
        help="the large section: --large-files files through the port and copied into the "
        "watched folder, per backend; off by default, as arq takes minutes",
    )
    found.add_argument("--large-files", type=int, default=10_000)
    found.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    found.add_argument(
        "--memory-backends",
        nargs="+",
        choices=("arq", "streaq"),
        default=["arq", "streaq"],
        help="whose memory to measure (arq's 2 x 10,000 files take long)",
    )
    found.add_argument("--report", type=Path, default=REPORT_PATH)
    return found


def main() -> None:
    stop_on_sigterm()
    args = parser().parse_args()
    try:
        text = asyncio.run(run(args))
    except KeyboardInterrupt:  # the processes of the running section were stopped on the way
        raise SystemExit("queue bench: interrupted; every process it started is stopped") from None
    print(text, end="")
    report: Path = args.report
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
    print(f"(written to {report})", file=sys.stderr)


if __name__ == "__main__":
    main()
