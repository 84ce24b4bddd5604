"""Rows as the tables hold them and the domain values they stand for, both ways.

Owns the column-by-column conversion for items and resource summaries (and the tuple types the
driver's rows are read into). Must not run statements.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import orjson

from complyd.model import (
    SUMMARY_COUNTS,
    ExecutionSummary,
    ItemEntry,
    ItemRecord,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
    StoredItem,
    SummaryRecord,
    Tenant,
)
from complyd.storage.schema import (
    COMPLIANT_COLUMNS,
    NON_COMPLIANT_COLUMNS,
    resource_summaries,
)

SUMMARIES = resource_summaries
_SEVERITIES = {s.value: s for s in Severity}
_STATUSES = {s.value: s for s in Status}
SummaryRow = namedtuple("SummaryRow", SUMMARIES.c.keys())  # type: ignore[misc]


def execution_of(row: Any) -> ExecutionSummary:
    return ExecutionSummary(row.execution_time_ms, row.execution_id, row.execution_type)


def item_from_record(r: ItemRecord) -> StoredItem:
    entry = ItemEntry(
        severity=_SEVERITIES[r[6]],
        status=_STATUSES[r[5]],
        id=r[3],
        title=r[4],
        details=orjson.loads(r[7]),
    )
    execution = ExecutionSummary(r[8], r[9], r[10])
    return StoredItem(r[0], r[1], r[2], entry, execution, r[11])


def summary_from_record(r: SummaryRecord) -> ResourceSummary:
    c = r[SUMMARY_COUNTS]
    return ResourceSummary(
        resource_id=r[0],
        resource_type=r[2],
        compliance_type=r[1],
        status=_STATUSES[r[3]],
        overall_severity=_SEVERITIES[r[4]],
        compliant=SeverityCounts((c[0], c[1], c[2], c[3], c[4], c[5])),
        non_compliant=SeverityCounts((c[6], c[7], c[8], c[9], c[10], c[11])),
        execution=ExecutionSummary(r[17], r[18], r[19]),
        content_hash=r[20],
        patch_group=r[21],
        total_size=r[22],
    )


def item_row(tenant: Tenant, item: StoredItem) -> dict[str, Any]:
    e = item.entry
    return {
        "account_id": tenant.account_id,
        "region": tenant.region,
        "resource_id": item.resource_id,
        "compliance_type": item.compliance_type,
        "item_key": item.item_key,
        "item_id": e.id,
        "title": e.title,
        "status": e.status.value,
        "severity": e.severity.value,
        "details": dict(e.details),
        "execution_time_ms": item.execution.execution_time_ms,
        "execution_id": item.execution.execution_id,
        "execution_type": item.execution.execution_type,
        "size": item.size,
    }


def _counts(row: Any, columns: Sequence[str]) -> SeverityCounts:
    c = [getattr(row, name) for name in columns]
    return SeverityCounts((c[0], c[1], c[2], c[3], c[4], c[5]))


def summary_from_row(row: Any) -> ResourceSummary:
    return ResourceSummary(
        resource_id=row.resource_id,
        resource_type=row.resource_type,
        compliance_type=row.compliance_type,
        status=Status(row.status),
        overall_severity=Severity(row.overall_severity),
        compliant=_counts(row, COMPLIANT_COLUMNS),
        non_compliant=_counts(row, NON_COMPLIANT_COLUMNS),
        execution=execution_of(row),
        content_hash=row.content_hash,
        patch_group=row.patch_group,
        total_size=row.total_size,
    )


def summary_row(tenant: Tenant, s: ResourceSummary) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": tenant.account_id,
        "region": tenant.region,
        "resource_id": s.resource_id,
        "compliance_type": s.compliance_type,
        "resource_type": s.resource_type,
        "status": s.status.value,
        "overall_severity": s.overall_severity.value,
        "execution_time_ms": s.execution.execution_time_ms,
        "execution_id": s.execution.execution_id,
        "execution_type": s.execution.execution_type,
        "content_hash": s.content_hash,
        "patch_group": s.patch_group,
        "total_size": s.total_size,
    }
    row.update(zip(COMPLIANT_COLUMNS, s.compliant.counts, strict=True))
    row.update(zip(NON_COMPLIANT_COLUMNS, s.non_compliant.counts, strict=True))
    return row
