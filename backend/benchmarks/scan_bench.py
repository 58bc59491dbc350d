"""Fast-scan and slow-analysis throughput on a generated library: figures, never a verdict.

Run with `make bench-scan` (or `uv run python benchmarks/scan_bench.py --files 2000`).
Rows: the first fast scan (every file new), the slow analysis (skipped with --only-scan),
the stat-only rescan of the unchanged library, and a rescan after 1% of the files changed
(those must be read again and counted as changed).

The imports of mus live inside the functions: the fast scan's reader processes are spawned
and import this `__main__` first, so a light module top keeps their start-up short.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

TOUCHED_SHARE = 100  # one file in a hundred is changed before the last rescan


def _touch(paths: list[Path]) -> None:
    """Change the content (so the fingerprint) of each: a few bytes appended at the end."""
    for path in paths:
        with path.open("ab") as file:
            file.write(b"\0" * 16)


async def measure(
    files: int,
    concurrency: int | None,
    only_scan: bool,
    reader_processes: int | None,
    analysis_processes: int | None,
) -> None:
    from mus.adapters.persistence.database import Database
    from mus.application.fast_scan import fast_scan
    from mus.application.inline_scan import default_concurrency, run_inline_scan
    from mus.application.parallel_analysis import default_processes
    from mus.core.config import Settings
    from mus.demo.audio_generator import generate_library

    concurrency = concurrency or default_concurrency()
    analysis_processes = analysis_processes or default_processes()
    rows: list[tuple[str, int, float, str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mus-bench-") as tmp:
        settings = Settings(DATA_DIR_PATH=Path(tmp) / "data")
        settings.ensure_directories()
        root = settings.music_dir_path
        started = time.perf_counter()
        paths = sorted(generate_library(root, files, seed=2026))
        generated = time.perf_counter() - started
        database = Database(settings.database_url)
        try:
            await database.create_tables()
            first = await fast_scan(database, root, processes=reader_processes)
            rows.append(("fast scan", first.found, first.elapsed_seconds, _detail(first)))
            if not only_scan:
                inline = await run_inline_scan(
                    database, settings, concurrency=concurrency, processes=analysis_processes
                )
                rows.append(
                    (
                        f"slow analysis ({analysis_processes}p x{concurrency})",
                        inline.analysed,
                        inline.slow_seconds,
                        f"complete {inline.complete}, errors {inline.errors}",
                    )
                )
                fallbacks = inline.ffprobe_fallbacks
                named = ", ".join(fallbacks[:5]) + (", ..." if len(fallbacks) > 5 else "")
                notes.append(
                    f"durations decoded by ffprobe (header not trusted): {len(fallbacks)}"
                    + (f" ({named})" if fallbacks else "")
                )
                notes.append(
                    f"covers encoded: {inline.covers_encoded} distinct images "
                    f"for {inline.analysed} tracks"
                )
            again = await fast_scan(database, root, processes=reader_processes)
            rows.append(("rescan, unchanged", again.found, again.elapsed_seconds, _detail(again)))
            touched = paths[::TOUCHED_SHARE]
            _touch(touched)
            after = await fast_scan(database, root, processes=reader_processes)
            label = f"rescan, {len(touched)} changed"
            rows.append((label, after.found, after.elapsed_seconds, _detail(after)))
        finally:
            await database.dispose()
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {python}")
    print(f"library: {files} generated files in {generated:.1f}s (not part of the figures)")
    print(f"{'phase':<26}{'files':>8}{'seconds':>10}{'files/s':>10}  detail")
    for name, count, seconds, detail in rows:
        rate = count / seconds if seconds > 0 else float("inf")
        print(f"{name:<26}{count:>8}{seconds:>10.3f}{rate:>10.1f}  {detail}")
    for note in notes:
        print(note)


def _detail(report: Any) -> str:
    """What a fast scan row did: files read (in processes), new/changed/unchanged, failures."""
    return (
        f"read {report.read} ({report.read_in_processes} in processes), "
        f"new {report.inserted}, changed {report.changed}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=None, help="analyses at once, a process")
    parser.add_argument(
        "--only-scan", action="store_true", help="skip the slow analysis (fast scan rows only)"
    )
    parser.add_argument(
        "--reader-processes",
        type=int,
        default=None,
        help="fast scan reader processes (0: threads only; default: by library size)",
    )
    parser.add_argument(
        "--analysis-processes",
        type=int,
        default=None,
        help="slow analysis processes (default: MUS_SCAN_PROCESSES, one per core)",
    )
    args = parser.parse_args()
    asyncio.run(
        measure(
            args.files,
            args.concurrency,
            args.only_scan,
            args.reader_processes,
            args.analysis_processes,
        )
    )


if __name__ == "__main__":
    main()
