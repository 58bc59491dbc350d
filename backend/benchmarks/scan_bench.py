"""Fast-scan and slow-analysis throughput on a generated library: figures, never a verdict.

Run with `make bench-scan` (or `uv run python benchmarks/scan_bench.py --files 2000`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.application.inline_scan import default_concurrency, run_inline_scan
from mus.application.parallel_analysis import default_processes
from mus.core.config import Settings
from mus.demo.audio_generator import generate_library


async def measure(files: int, concurrency: int, processes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mus-bench-") as tmp:
        data = Path(tmp) / "data"
        settings = Settings(DATA_DIR_PATH=data)
        settings.ensure_directories()
        started = time.perf_counter()
        generate_library(settings.music_dir_path, files, seed=2026)
        generated = time.perf_counter() - started
        database = Database(settings.database_url)
        try:
            report = await run_inline_scan(
                database, settings, concurrency=concurrency, processes=processes
            )
            rescan_started = time.perf_counter()
            again = await run_inline_scan(
                database, settings, concurrency=concurrency, processes=processes
            )
            rescan = time.perf_counter() - rescan_started
        finally:
            await database.dispose()
    fast = report.fast_scan
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {python}")
    print(f"library: {files} generated files in {generated:.1f}s (not part of the figures)")
    print(f"{'phase':<22}{'files':>8}{'seconds':>10}{'files/s':>10}")
    rows = [
        ("fast scan", fast.indexed, report.fast_seconds),
        (f"slow analysis ({processes}p x{concurrency})", report.analysed, report.slow_seconds),
        ("rescan, unchanged", again.fast_scan.unchanged, rescan),
    ]
    for name, count, seconds in rows:
        rate = count / seconds if seconds > 0 else float("inf")
        print(f"{name:<22}{count:>8}{seconds:>10.2f}{rate:>10.1f}")
    print(f"complete {report.complete}, errors {report.errors}, skipped {fast.skipped}")
    fallbacks = report.ffprobe_fallbacks
    named = ", ".join(fallbacks[:5]) + (", ..." if len(fallbacks) > 5 else "")
    print(
        f"durations by ffprobe (mutagen could not measure): {len(fallbacks)}"
        + (f" ({named})" if fallbacks else "")
    )
    print(f"covers encoded: {report.covers_encoded} distinct images for {report.analysed} tracks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=default_concurrency())
    parser.add_argument(
        "--processes", type=int, default=default_processes(), help="1: analysis in one process"
    )
    args = parser.parse_args()
    asyncio.run(measure(args.files, args.concurrency, args.processes))


if __name__ == "__main__":
    main()
