"""The resources list as CSV: every row the filters select, streamed a keyset page at a time.

Owns the download's columns and file name. Rows are read through ComplianceService in the
service's keyset order, so memory stays flat however many rows are selected. Must not read
another tenant's rows: the tenant comes from the caller (the session).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from complyd.clock import iso_millis
from complyd.model import Filter, ResourceSummary, Tenant
from complyd.paging import all_pages
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


_iso = iso_millis


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
    pages = all_pages(
        lambda after: service.list_resource_compliance_summaries(tenant, filters, after, CSV_PAGE)
    )
    for page in pages:
        writer.writerows(_row(r) for r in page.rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
