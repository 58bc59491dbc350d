"""The bench's table: one row per figure, arq | streaq | ratio, as Markdown.

Every ratio reads the same way, whatever the figure's unit: above 1 means streaq did
better (a rate divided by arq's, or arq's time divided by streaq's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

RATIO_HEADER = "streaq vs arq (>1 = streaq better)"


class Better(Enum):
    """Which way a figure improves."""

    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True, slots=True)
class Row:
    """A figure for both backends; a text cell (n/a, an outcome) instead of a number."""

    label: str
    arq: float | str | None
    streaq: float | str | None
    better: Better | None = None
    digits: int = 1

    def ratio(self) -> float | None:
        arq, streaq = self.arq, self.streaq
        if self.better is None or not isinstance(arq, float | int):
            return None
        if not isinstance(streaq, float | int) or arq <= 0 or streaq <= 0:
            return None
        return streaq / arq if self.better is Better.HIGHER else arq / streaq

    def cells(self) -> tuple[str, str, str, str]:
        ratio = self.ratio()
        return (
            self.label,
            cell(self.arq, self.digits),
            cell(self.streaq, self.digits),
            "" if ratio is None else f"{ratio:.2f}x",
        )


def cell(value: float | str | None, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def markdown_table(rows: Sequence[Row]) -> str:
    """A GitHub Markdown table, columns padded so it also reads as plain text."""
    header = ("figure", "arq", "streaq", RATIO_HEADER)
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(4)]

    def render(line: Sequence[str]) -> str:
        padded = [line[0].ljust(widths[0])] + [
            text.rjust(width) for text, width in zip(line[1:], widths[1:], strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(["-" * widths[0]] + [("-" * (w - 1)) + ":" for w in widths[1:]])
    return "\n".join([render(header), rule + " |", *(render(line) for line in lines[1:])])


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile with linear interpolation between closest ranks (numpy's
    default); None for fewer than two values."""
    if len(values) < 2:
        return None
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction} is not within [0, 1]")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(count: int, seconds: float | None) -> float | None:
    """Per second, None when there is no duration to divide by."""
    return None if not seconds else count / seconds
