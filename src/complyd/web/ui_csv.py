"""The resources list as CSV: every row the filters select, streamed a keyset page at a time.

Owns the download's columns and file name. Rows are read through ComplianceService in the
service's keyset order, so memory stays flat however many rows are selected. Must not read
another tenant's rows: the tenant comes from the caller (the session).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from complyd.model import Filter, ResourceSummary, Tenant
from complyd.service import ComplianceService

CSV_PAGE = 500
COLUMNS = (
    "ResourceId",
    "ComplianceType",
    "Status",
    "OverallSeverity",
    "CompliantCount",
    "NonCompliantCount",
    "ExecutionTime",
    "ExecutionId",
    "ExecutionType",
)


def csv_filename(tenant: Tenant) -> str:
    return f"complyd-{tenant.account_id}-{tenant.region}-resources.csv"


def _iso(epoch_ms: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _row(r: ResourceSummary) -> tuple[str, ...]:
    return (
        r.resource_id,
        r.compliance_type,
        r.status.value,
        r.overall_severity.value,
        str(r.compliant.total),
        str(r.non_compliant.total),
        _iso(r.execution.execution_time_ms),
        r.execution.execution_id or "",
        r.execution.execution_type or "",
    )


def summary_csv(
    service: ComplianceService, tenant: Tenant, filters: Sequence[Filter]
) -> Iterator[str]:
    """The header, then one chunk of CSV text per page of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    after: tuple[str, ...] | None = None
    while True:
        page = service.list_resource_compliance_summaries(tenant, filters, after, CSV_PAGE)
        writer.writerows(_row(r) for r in page.rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.last_key is None:
            return
        after = page.last_key
