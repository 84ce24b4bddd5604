"""Charts over time for the dashboard: numbers in, shapes for inline SVG out.

Owns how a series of (time, count) points becomes a line chart's coordinates, and how a
(resource, type)'s recorded changes become the coloured bands of a status timeline. Pure
functions over plain values; must not know about HTTP, templates or the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The trend chart's drawing box (SVG user units); the template scales it to its column.
TREND_WIDTH = 300.0
TREND_HEIGHT = 60.0
REMOVED = "REMOVED"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    x: float
    y: float
    start_ms: int
    count: int


@dataclass(frozen=True, slots=True)
class Trend:
    """A line of non-compliant resources per bucket, oldest first, scaled to 0..top."""

    points: list[TrendPoint]
    top: int

    @property
    def line(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)

    @property
    def latest(self) -> int:
        return self.points[-1].count if self.points else 0

    @property
    def change(self) -> int:
        """Latest minus first: negative when the fleet got better over the period."""
        return self.latest - self.points[0].count if self.points else 0

    def describe(self, days: int) -> str:
        """The line in words, for screen readers."""
        if not self.points:
            return "No history."
        counts = [p.count for p in self.points]
        return (
            f"Non-compliant resources over {days} days: {counts[0]:,} at the start, "
            f"{self.latest:,} now (lowest {min(counts):,}, highest {max(counts):,})."
        )


def trend(points: Sequence[tuple[int, int]]) -> Trend:
    top = max([1, *(count for _, count in points)])
    last = max(1, len(points) - 1)
    return Trend(
        [
            TrendPoint(
                round(TREND_WIDTH * n / last, 2),
                round(TREND_HEIGHT - TREND_HEIGHT * count / top, 2),
                start,
                count,
            )
            for n, (start, count) in enumerate(points)
        ],
        top,
    )


@dataclass(frozen=True, slots=True)
class Band:
    """One stretch of a status timeline; `start` and `length` are percent of the period."""

    status: str  # COMPLIANT, NON_COMPLIANT or REMOVED
    from_ms: int
    to_ms: int
    start: float
    length: float


def bands(changes: Sequence[tuple[int, str]], since_ms: int, now_ms: int) -> list[Band]:
    """[(recorded ms, status)] of one (resource, type), oldest first, as bands from each change
    to the next (the last one to now), over the period since_ms..now_ms."""
    span = max(1, now_ms - since_ms)
    out: list[Band] = []
    for n, (at, status) in enumerate(changes):
        end = changes[n + 1][0] if n + 1 < len(changes) else now_ms
        begin = max(at, since_ms)
        if end <= begin and n + 1 < len(changes):
            continue
        start = 100.0 * (begin - since_ms) / span
        length = max(0.4, 100.0 * (end - begin) / span)
        out.append(Band(status, at, end, round(start, 3), round(min(length, 100 - start), 3)))
    return out
