"""Pure summary arithmetic: items -> one resource summary; resource rows -> fleet rows.

Owns the rules of spec sections 6 and 7 as plain functions. The store keeps the fleet figures
with SQL of the same meaning; these functions are the reference it is tested against. Must not
perform I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from complyd.model import (
    FLEET_TOTAL,
    CountChange,
    ExecutionSummary,
    ItemEntry,
    ResourceSummary,
    Rollup,
    Severity,
    SeverityCounts,
    Status,
    TypeSummary,
)


def count_by_severity(severities: Iterable[Severity]) -> SeverityCounts:
    return SeverityCounts.of(Counter(severities))


def highest(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank, default=Severity.UNSPECIFIED)


def overall(
    status: Status, all_severities: Sequence[Severity], nc_severities: Sequence[Severity]
) -> Severity:
    """Highest severity among the non-compliant ones when there are any, else among all."""
    return highest(nc_severities if status is Status.NON_COMPLIANT else all_severities)


@dataclass(frozen=True, slots=True)
class ItemsSummary:
    status: Status
    overall_severity: Severity
    compliant: SeverityCounts
    non_compliant: SeverityCounts
    patch_group: str | None


# By value, not by member: an enum member hashes through a Python-level __hash__.
_POSITION = {s.value: n for n, s in enumerate(Severity)}  # SeverityCounts order
_RANK = {s.value: s.rank for s in Severity}
_BY_RANK = sorted(Severity, key=lambda s: s.rank)


def summarise_items(items: Sequence[ItemEntry]) -> ItemsSummary:
    # One pass, counting by position: this runs for every put, over every item it sends.
    ok, nc = [0] * 6, [0] * 6
    top_ok = top_nc = -1
    patch_group = None
    for item in items:
        severity = item.severity._value_
        rank = _RANK[severity]
        if item.status is Status.NON_COMPLIANT:
            nc[_POSITION[severity]] += 1
            if rank > top_nc:
                top_nc = rank
        else:
            ok[_POSITION[severity]] += 1
            if rank > top_ok:
                top_ok = rank
        if patch_group is None and item.details:
            patch_group = item.details.get("PatchGroup") or None
    status = Status.NON_COMPLIANT if top_nc >= 0 else Status.COMPLIANT
    # The highest severity among the non-compliant items if there are any, else among all.
    best = top_nc if top_nc >= 0 else top_ok
    return ItemsSummary(
        status=status,
        overall_severity=_BY_RANK[best] if best >= 0 else Severity.UNSPECIFIED,
        compliant=SeverityCounts((ok[0], ok[1], ok[2], ok[3], ok[4], ok[5])),
        non_compliant=SeverityCounts((nc[0], nc[1], nc[2], nc[3], nc[4], nc[5])),
        patch_group=patch_group,
    )


def resource_summary(
    resource_id: str,
    resource_type: str,
    compliance_type: str,
    items: Sequence[ItemEntry],
    execution: ExecutionSummary,
    content_hash: str | None,
    total_size: int,
) -> ResourceSummary:
    s = summarise_items(items)
    return ResourceSummary(
        resource_id=resource_id,
        resource_type=resource_type,
        compliance_type=compliance_type,
        status=s.status,
        overall_severity=s.overall_severity,
        compliant=s.compliant,
        non_compliant=s.non_compliant,
        execution=execution,
        content_hash=content_hash,
        patch_group=s.patch_group,
        total_size=total_size,
    )


def type_summary(compliance_type: str, rows: Iterable[tuple[Status, Severity]]) -> TypeSummary:
    """Count resources: each (status, overall severity) pair is one resource."""
    rows = list(rows)
    return TypeSummary(
        compliance_type=compliance_type,
        compliant=count_by_severity(sev for st, sev in rows if st is Status.COMPLIANT),
        non_compliant=count_by_severity(sev for st, sev in rows if st is Status.NON_COMPLIANT),
    )


def resource_rollup(rows: Sequence[ResourceSummary]) -> Rollup | None:
    """A resource over all its rows: non-compliant if any row is; the highest severity among
    its non-compliant rows, or among all rows when compliant. None without rows."""
    if not rows:
        return None
    nc = [r.overall_severity for r in rows if r.status is Status.NON_COMPLIANT]
    status = Status.NON_COMPLIANT if nc else Status.COMPLIANT
    return status, overall(status, [r.overall_severity for r in rows], nc)


def count_change(
    rows: Sequence[ResourceSummary],
    compliance_type: str,
    before: ResourceSummary | None,
    after: ResourceSummary | None,
) -> CountChange:
    """The counter moves of replacing the type's row `before` by `after` among `rows`."""
    remaining = [r for r in rows if r.compliance_type != compliance_type]
    return CountChange(
        type_before=(before.status, before.overall_severity) if before else None,
        type_after=(after.status, after.overall_severity) if after else None,
        resource_before=resource_rollup(rows),
        resource_after=resource_rollup(remaining + ([after] if after else [])),
    )


def fleet_summaries(rows: Iterable[ResourceSummary]) -> list[TypeSummary]:
    """The whole ListComplianceSummaries answer for a set of resource rows: FleetTotal first."""
    by_type: dict[str, list[tuple[Status, Severity]]] = {}
    by_resource: dict[str, list[ResourceSummary]] = {}
    for row in rows:
        by_type.setdefault(row.compliance_type, []).append((row.status, row.overall_severity))
        by_resource.setdefault(row.resource_id, []).append(row)
    fleet = []
    for resource_rows in by_resource.values():
        rollup = resource_rollup(resource_rows)
        assert rollup is not None
        fleet.append(rollup)
    out = [type_summary(FLEET_TOTAL, fleet)]
    out.extend(type_summary(name, by_type[name]) for name in sorted(by_type))
    return out
