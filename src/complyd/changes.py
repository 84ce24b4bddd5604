"""What a put changed in a (resource, type) summary: the history row and the state-change event.

Owns the rules "which changes are recorded" and "which changes are events", as pure functions
over the summary before and after a put. Must not perform I/O.
"""

from __future__ import annotations

from complyd.model import (
    CountChange,
    ResourceSummary,
    Severity,
    Status,
    SummaryChange,
)


def _non_compliant(rollup: tuple[Status, Severity] | None) -> int:
    return 1 if rollup is not None and rollup[0] is Status.NON_COMPLIANT else 0


def summary_change(
    before: ResourceSummary | None, after: ResourceSummary | None, counts: CountChange
) -> SummaryChange | None:
    """The change to record, or None when status, severity, counts and execution summary are
    all as they were (a re-report of the same state writes nothing more)."""
    if before is None and after is None:
        return None
    if before is not None and after is not None and _same(before, after):
        return None
    # An event fires when a row's status differs from what it was; a new row counts as a
    # change from nothing, a removed row fires nothing (AWS reports states, not deletions).
    flipped = after is not None and (before is None or before.status is not after.status)
    return SummaryChange(
        status=after.status if after else None,
        overall_severity=after.overall_severity if after else None,
        compliant=after.compliant.total if after else 0,
        non_compliant=after.non_compliant.total if after else 0,
        execution=after.execution if after else None,
        fleet_delta=_non_compliant(counts.resource_after) - _non_compliant(counts.resource_before),
        status_flipped=flipped,
        type_delta=_non_compliant(counts.type_after) - _non_compliant(counts.type_before),
    )


def _same(a: ResourceSummary, b: ResourceSummary) -> bool:
    return (
        a.status is b.status
        and a.overall_severity is b.overall_severity
        and a.compliant == b.compliant
        and a.non_compliant == b.non_compliant
        and a.execution == b.execution
    )
