"""Range header parsing: one range served, anything else the whole file, beyond the end 416."""

from __future__ import annotations

import pytest

from mus.api.http.byte_ranges import ByteRange, RangeNotSatisfiableError, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("BYTES = 1 - 2", ByteRange(1, 2)),
        (None, None),
        ("bytes=", None),
        ("bytes=-", None),
        ("bytes=5-1", None),
        ("bytes=0-1,5-9", None),
        ("items=0-1", None),
        ("garbage", None),
    ],
)
def test_parse(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError) as caught:
        parse_range(header, 1000)
    assert caught.value.size == 1000


def test_empty_file_has_no_satisfiable_range() -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range("bytes=0-", 0)
    with pytest.raises(RangeNotSatisfiableError):
        parse_range("bytes=-1", 0)


def test_content_range_and_length() -> None:
    byte_range = ByteRange(10, 19)
    assert byte_range.length == 10
    assert byte_range.content_range(100) == "bytes 10-19/100"


def test_huge_numbers_are_capped_not_converted() -> None:
    """A Range with thousands of digits was a 500 (Python's int-string limit)."""
    huge = "9" * 5000
    assert parse_range(f"bytes=0-{huge}", 100) == ByteRange(0, 99)
    assert parse_range(f"bytes=-{huge}", 100) == ByteRange(0, 99)
    assert parse_range(f"bytes={'0' * 5000}5-9", 100) == ByteRange(5, 9)
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(f"bytes={huge}-", 100)
