"""`make bench`'s sections: long ones run only when asked; the copy rows say their counts."""

from __future__ import annotations

import pytest
from benchmarks.bench_table import Better
from benchmarks.queue_bench import Bench, chosen_sections, parser
from benchmarks.watched_copy import CopyFigures


def sections(*argv: str) -> list[str]:
    return chosen_sections(parser().parse_args(list(argv)))


def test_the_default_runs_the_copy_rows_but_neither_memory_nor_large() -> None:
    chosen = sections()
    assert "copy" in chosen
    assert "files" in chosen
    assert "memory" not in chosen
    assert "large" not in chosen


def test_large_is_added_by_its_flag_also_to_a_chosen_few() -> None:
    assert sections("--large")[-1] == "large"
    assert sections("--only", "copy", "--large") == ["copy", "large"]
    assert sections("--only", "large", "--large") == ["large"]


def test_large_asked_by_name_alone_is_refused_rather_than_run_unasked_or_skipped() -> None:
    with pytest.raises(SystemExit, match="only with --large"):
        sections("--only", "large")


def test_the_large_count_has_its_own_default() -> None:
    args = parser().parse_args(["--large"])
    assert (args.files, args.large_files) == (1000, 10_000)


def test_copy_rows_name_the_count_and_give_no_ratio_for_the_copy_itself() -> None:
    bench = Bench(parser().parse_args([]))
    arq = CopyFigures(0.2, 30.0, 40.0, "2000 ok, 0 err")
    streaq = CopyFigures(0.3, 20.0, 20.0, "1999 ok, 1 err")
    bench.copy_rows(2000, arq, streaq)
    by_label = {row.label: row for row in bench.rows}
    complete = by_label["2,000 files copied into the watched folder, to COMPLETE, s"]
    assert complete.better is Better.LOWER
    assert complete.ratio() == 2.0
    assert by_label["2,000 files copied into the watched folder, all listed, s"].ratio() == 1.5
    assert by_label["  the copy itself (shutil.copytree), s"].ratio() is None
    assert by_label["  outcome"].cells()[1:3] == ("2000 ok, 0 err", "1999 ok, 1 err")
