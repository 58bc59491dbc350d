"""`make bench`'s table: ratios read one way, percentiles on known inputs, Markdown shape."""

from __future__ import annotations

import pytest
from benchmarks.bench_table import RATIO_HEADER, Better, Row, markdown_table, percentile


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == pytest.approx(4.8)  # 4 + 0.8 x (5 - 4)
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 5.0


def test_percentile_of_too_few_values_is_none_and_a_bad_fraction_is_refused() -> None:
    assert percentile([7.0], 0.5) is None
    with pytest.raises(ValueError, match="within"):
        percentile([1.0, 2.0], 95)


def test_a_ratio_above_one_means_streaq_did_better_for_rates_and_for_times() -> None:
    assert Row("jobs/s", 100.0, 150.0, Better.HIGHER).ratio() == 1.5
    assert Row("seconds", 60.0, 30.0, Better.LOWER).ratio() == 2.0
    assert Row("seconds", 30.0, 60.0, Better.LOWER).ratio() == 0.5


def test_no_ratio_without_two_positive_numbers_or_a_direction() -> None:
    assert Row("batch", "n/a (port has no enqueue_many)", 10.0, Better.HIGHER).ratio() is None
    assert Row("run", None, 10.0, Better.HIGHER).ratio() is None
    assert Row("wait", 0.0, 10.0, Better.LOWER).ratio() is None
    assert Row("growth", 1.0, 2.0).ratio() is None


def test_markdown_table_has_a_header_a_right_aligned_rule_and_one_line_per_row() -> None:
    rows = [
        Row("no-op jobs run/s", 981.0, 1407.0, Better.HIGHER),
        Row("outcome", "1000 ok, 0 err", "999 ok, 1 err"),
        Row("wait p95 ms", None, 58.04, Better.LOWER, digits=2),
    ]
    lines = markdown_table(rows).splitlines()
    assert [cell.strip() for cell in lines[0].strip("|").split("|")] == [
        "figure",
        "arq",
        "streaq",
        RATIO_HEADER,
    ]
    assert [cell.strip() for cell in lines[1].strip("|").split("|")][1:] == [
        "-" * (len(cell.strip()) - 1) + ":" for cell in lines[1].strip("|").split("|")[1:]
    ]
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == [
        "no-op jobs run/s",
        "981.0",
        "1,407.0",
        "1.43x",
    ]
    assert [cell.strip() for cell in lines[3].strip("|").split("|")] == [
        "outcome",
        "1000 ok, 0 err",
        "999 ok, 1 err",
        "",
    ]
    assert [cell.strip() for cell in lines[4].strip("|").split("|")] == [
        "wait p95 ms",
        "-",
        "58.04",
        "",
    ]
    assert len(lines) == 5
    assert len({len(line) for line in lines}) == 1  # padded: reads as plain text too
