"""Cover decoding is bounded in memory: per image (a pixel limit, decoding to the size
stored) and per process (at most `decodes` at once).

The images are real PNGs, 9400x9400 like the one that took a worker from 107 MB to 1.27 GB,
written row by row through zlib so the test itself never holds them decoded; the peak
resident memory is measured in a fresh Python process that does nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mus.adapters.scanner.cover_store import CoverStore, CoverTooLargeError

from tests.scan_fixtures import large_png

SIDE = 9400
GIGABYTE_KB = 1024 * 1024


PEAK_SCRIPT = """
import json, resource, sys, threading
from pathlib import Path
from mus.adapters.scanner.cover_store import CoverStore
covers, max_pixels, decodes, *images = sys.argv[1:]
store = CoverStore(Path(covers), max_pixels=int(max_pixels), decodes=int(decodes))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [
    threading.Thread(target=store.save, args=(n, Path(image).read_bytes()))
    for n, image in enumerate(images)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "peak_kb": peak, "saved": store.exists(0)}))
"""


def peak_of_saves(tmp_path: Path, images: list[bytes], *, decodes: int) -> dict[str, int]:
    """Peak RSS (KB) of a fresh process saving `images` at once, each from its own thread."""
    paths = []
    for n, image in enumerate(images):
        path = tmp_path / f"cover-{n}.png"
        path.write_bytes(image)
        paths.append(str(path))
    limits = [str(SIDE * SIDE), str(decodes)]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(tmp_path / "covers"), *limits, *paths],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, int] = json.loads(done.stdout)
    print(
        f"\n{len(images)} x {SIDE}x{SIDE} PNG, decodes={decodes}: peak "
        f"{figures['peak_kb'] / 1024:.0f} MB (imports {figures['before_kb'] / 1024:.0f} MB) "
        f"in {time.monotonic() - started:.1f}s"
    )
    return figures


def test_a_9400_pixel_png_is_skipped_by_the_default_limit_before_any_decoding(
    tmp_path: Path,
) -> None:
    store = CoverStore(tmp_path / "covers")
    started = time.monotonic()
    with pytest.raises(CoverTooLargeError, match="9400x9400 pixels is over the limit"):
        store.save(1, large_png(SIDE, 0))
    assert not store.exists(1)
    assert not (tmp_path / "covers").exists() or not any((tmp_path / "covers").rglob("*"))
    assert time.monotonic() - started < 30


def test_a_9400_pixel_png_allowed_by_the_limit_stays_well_under_a_gigabyte(
    tmp_path: Path,
) -> None:
    """Before: one such cover took a worker to 1.27 GB (full decode, then copies of it)."""
    figures = peak_of_saves(tmp_path, [large_png(SIDE, 0)], decodes=1)
    assert figures["saved"]
    # One RGB decode is 9400 x 9400 x 3 = 253 MB; the rest is the 4096 px original.
    assert figures["peak_kb"] - figures["before_kb"] < 400 * 1024
    assert figures["peak_kb"] < GIGABYTE_KB


def test_four_large_covers_at_once_decode_one_at_a_time(tmp_path: Path) -> None:
    """Four distinct covers saved from four threads (four jobs): with one decode slot the
    peak is that of one decode, not four (measured before: ~4 GB for four at once)."""
    figures = peak_of_saves(tmp_path, [large_png(SIDE, s) for s in (0, 60, 120, 180)], decodes=1)
    assert figures["saved"]
    assert figures["peak_kb"] - figures["before_kb"] < 400 * 1024
    assert figures["peak_kb"] < GIGABYTE_KB
