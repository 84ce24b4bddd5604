"""What the dashboard's views hand to its templates: times as people read them, a node's items
grouped by type, and a node's status timeline.

Pure functions over domain values; must not read the store or know about HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from complyd.clock import iso_millis, moment
from complyd.model import HistoryEntry, StoredItem
from complyd.web.timecharts import REMOVED, Band, bands


def when(epoch_ms: int) -> str:
    return moment(epoch_ms).strftime("%Y-%m-%d %H:%M:%S UTC")


iso = iso_millis


def day(epoch_ms: int) -> str:
    return moment(epoch_ms).strftime("%Y-%m-%d")


def age(epoch_ms: int, now_ms: int) -> str:
    """How long ago, in the largest whole unit: '3 days ago', '5 hours ago', 'just now'."""
    seconds = (now_ms - epoch_ms) // 1000
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n:,} {unit}{'s' if n != 1 else ''} ago"
    return "in the future" if seconds < 0 else "just now"


@dataclass(frozen=True, slots=True)
class ItemGroup:
    compliance_type: str
    items: list[StoredItem]


def by_type(items: Sequence[StoredItem]) -> list[ItemGroup]:
    """Consecutive items of one type, in the order the service lists them."""
    groups: list[ItemGroup] = []
    for item in items:
        if not groups or groups[-1].compliance_type != item.compliance_type:
            groups.append(ItemGroup(item.compliance_type, []))
        groups[-1].items.append(item)
    return groups


@dataclass(frozen=True, slots=True)
class TimelineRow:
    compliance_type: str
    bands: list[Band]


@dataclass(frozen=True, slots=True)
class Timeline:
    since_ms: int
    now_ms: int
    rows: list[TimelineRow]


def timeline(changes: Sequence[HistoryEntry], now_ms: int) -> Timeline | None:
    """Each type's status bands from the first change shown to now."""
    if not changes:
        return None
    since = min(c.recorded_ms for c in changes)
    per_type: dict[str, list[tuple[int, str]]] = {}
    for c in changes:
        status = c.status.value if c.status else REMOVED
        per_type.setdefault(c.compliance_type, []).append((c.recorded_ms, status))
    rows = [TimelineRow(t, bands(per_type[t], since, now_ms)) for t in sorted(per_type)]
    return Timeline(since, now_ms, rows)
