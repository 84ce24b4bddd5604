"""changes.summary_change: which put outcomes are history rows and which are events."""

from __future__ import annotations

import dataclasses

from complyd.changes import summary_change
from complyd.model import (
    CountChange,
    ExecutionSummary,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
)

OK = (Status.COMPLIANT, Severity.LOW)
BAD = (Status.NON_COMPLIANT, Severity.HIGH)


def row(status: Status, when: int = 1_000, non_compliant: int = 0) -> ResourceSummary:
    return ResourceSummary(
        resource_id="i-00000001",
        resource_type="ManagedInstance",
        compliance_type="Patch",
        status=status,
        overall_severity=Severity.HIGH,
        compliant=SeverityCounts((0, 1, 0, 0, 0, 0)),
        non_compliant=SeverityCounts((0, non_compliant, 0, 0, 0, 0)),
        execution=ExecutionSummary(when),
        content_hash=None,
        patch_group=None,
        total_size=10,
    )


def test_an_unchanged_summary_records_nothing() -> None:
    same = CountChange(OK, OK, OK, OK)
    assert summary_change(row(Status.COMPLIANT), row(Status.COMPLIANT), same) is None
    # Content hash, patch group and size are not part of the recorded state.
    other_hash = dataclasses.replace(row(Status.COMPLIANT), content_hash="h", total_size=99)
    assert summary_change(row(Status.COMPLIANT), other_hash, same) is None
    assert summary_change(None, None, CountChange(None, None, None, None)) is None


def test_a_new_execution_is_recorded_without_an_event() -> None:
    change = summary_change(
        row(Status.COMPLIANT), row(Status.COMPLIANT, when=2_000), CountChange(OK, OK, OK, OK)
    )
    assert change is not None and not change.status_flipped and change.fleet_delta == 0
    assert change.execution == ExecutionSummary(2_000)


def test_flips_new_rows_and_removals() -> None:
    flip = summary_change(
        row(Status.COMPLIANT),
        row(Status.NON_COMPLIANT, non_compliant=1),
        CountChange(OK, BAD, OK, BAD),
    )
    assert flip is not None and flip.status_flipped and flip.fleet_delta == 1
    assert (flip.status, flip.non_compliant) == (Status.NON_COMPLIANT, 1)
    new = summary_change(None, row(Status.COMPLIANT), CountChange(None, OK, None, OK))
    assert new is not None and new.status_flipped and new.fleet_delta == 0
    gone = summary_change(row(Status.NON_COMPLIANT), None, CountChange(BAD, None, BAD, None))
    assert gone is not None and not gone.status_flipped and gone.status is None
    assert gone.fleet_delta == -1 and gone.execution is None
    # The resource stays non-compliant through another type: the fleet count does not move.
    other = summary_change(
        row(Status.NON_COMPLIANT), row(Status.COMPLIANT), CountChange(BAD, OK, BAD, BAD)
    )
    assert other is not None and other.fleet_delta == 0 and other.status_flipped
