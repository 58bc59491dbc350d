"""HTTP Range requests (RFC 9110 section 14): one byte range, or the whole file.

Several ranges in one request are answered with the whole file, which the RFC allows and
which no audio player needs otherwise; a header we cannot parse is ignored the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE | re.ASCII)
# Any position past this is "beyond every file": longer digit strings are never converted
# (Python refuses int() of over 4,300 digits, and nothing needs more than 19).
POSITION_CAP = 2**63 - 1
_CAP_DIGITS = len(str(POSITION_CAP))


def _position(digits: str) -> int:
    """A byte position from its digits, capped so a huge number costs nothing to read."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > _CAP_DIGITS:
        return POSITION_CAP
    return min(int(significant), POSITION_CAP)


class RangeNotSatisfiableError(ValueError):
    """The range lies wholly beyond the end of the file: answer 416."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a resource of {size} bytes")
        self.size = size


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Inclusive first and last byte positions, as in `Content-Range`."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.first}-{self.last}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, None for the whole file; raises RangeNotSatisfiableError."""
    if header is None:
        return None
    match = _SINGLE_RANGE.match(header)
    if match is None:
        return None  # several ranges, another unit or garbage: serve the whole file
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix range: the last N bytes
        suffix = _position(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return ByteRange(max(size - suffix, 0), size - 1)
    first = _position(first_text)
    if last_text and _position(last_text) < first:
        return None  # syntactically invalid: ignore the header
    if first >= size:
        raise RangeNotSatisfiableError(size)
    last = _position(last_text) if last_text else size - 1
    return ByteRange(first, min(last, size - 1))
