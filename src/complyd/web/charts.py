"""Chart geometry for the dashboard: numbers in, shapes for inline SVG out.

Owns how counts become a donut's arcs and a stacked bar's segments, and the severity palette's
order. Pure functions over plain values; must not know about HTTP, templates or the store.
The templates draw these shapes as inline SVG, so nothing is fetched by the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from complyd.model import FLEET_TOTAL, Severity, SeverityCounts, Status, TypeSummary

# Severities as people read them: most urgent first.
SEVERITIES_SHOWN: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: -s.rank))
# A circle of this radius has a circumference of 100, so dash lengths are percentages.
DONUT_RADIUS = 15.91549430918954


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a stacked bar or donut; `start` and `length` are percent of the whole."""

    key: str
    label: str
    count: int
    start: float
    length: float


def segments(parts: Sequence[tuple[str, str, int]]) -> list[Segment]:
    """(key, label, count) parts laid end to end over 0..100; empty parts take no room."""
    total = sum(count for _, _, count in parts)
    out: list[Segment] = []
    start = 0.0
    for key, label, count in parts:
        if count <= 0 or total == 0:
            continue
        length = 100.0 * count / total
        out.append(Segment(key, label, count, round(start, 3), round(length, 3)))
        start += length
    return out


def severity_segments(counts: SeverityCounts) -> list[Segment]:
    return segments([(s.value, s.value.capitalize(), counts.get(s)) for s in SEVERITIES_SHOWN])


@dataclass(frozen=True, slots=True)
class TypeCard:
    """Everything one compliance type's (or the fleet total's) chart and table show."""

    compliance_type: str
    compliant: SeverityCounts
    non_compliant: SeverityCounts
    status_parts: list[Segment]
    compliant_parts: list[Segment]
    non_compliant_parts: list[Segment]

    @property
    def is_fleet_total(self) -> bool:
        return self.compliance_type == FLEET_TOTAL

    @property
    def total(self) -> int:
        return self.compliant.total + self.non_compliant.total

    @property
    def percent_compliant(self) -> int | None:
        """Rounded down, so a fleet with one failing resource never shows 100%."""
        if self.total == 0:
            return None
        return 100 * self.compliant.total // self.total

    def counts(self, status: Status) -> SeverityCounts:
        return self.compliant if status is Status.COMPLIANT else self.non_compliant

    def severity_parts(self, status: Status) -> list[Segment]:
        return self.compliant_parts if status is Status.COMPLIANT else self.non_compliant_parts

    def describe(self, status: Status) -> str:
        """The severity bar in words, for screen readers: '3 critical, 1 low' or 'none'."""
        parts = self.severity_parts(status)
        return ", ".join(f"{p.count:,} {p.label.lower()}" for p in parts) or "none"


def type_card(row: TypeSummary) -> TypeCard:
    status_parts = segments(
        [
            (Status.NON_COMPLIANT.value, "Non-compliant", row.non_compliant.total),
            (Status.COMPLIANT.value, "Compliant", row.compliant.total),
        ]
    )
    return TypeCard(
        compliance_type=row.compliance_type,
        compliant=row.compliant,
        non_compliant=row.non_compliant,
        status_parts=status_parts,
        compliant_parts=severity_segments(row.compliant),
        non_compliant_parts=severity_segments(row.non_compliant),
    )
