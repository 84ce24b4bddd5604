"""The dashboard's sorted pages on every backend: walking forward and back through each order
gives the rows sorted as asked, each once, with the filters applied."""

from __future__ import annotations

import itertools

import pytest

from complyd.config import Settings
from complyd.model import (
    ExecutionSummary,
    Filter,
    ItemEntry,
    PutRequest,
    Severity,
    Status,
    Tenant,
)
from complyd.service import ComplianceService
from complyd.storage.sql import SqlStore

tenants = (Tenant(f"{n:012d}", "ap-south-1") for n in itertools.count(900))
TYPES = ["Association", "Patch", "Custom:A", "Custom:b"]


@pytest.mark.parametrize("sort", ["resource", "type"])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_walk_each_order_both_ways(store: SqlStore, sort: str, descending: bool) -> None:
    tenant, other = next(tenants), next(tenants)
    service = ComplianceService(store, Settings())
    for n in range(23):
        for t, ctype in enumerate(TYPES[: 1 + n % 4]):
            status = Status.NON_COMPLIANT if (n + t) % 3 == 0 else Status.COMPLIANT
            request = PutRequest(
                f"i-{n:08d}",
                "ManagedInstance",
                ctype,
                ExecutionSummary(n),
                [ItemEntry(Severity.LOW, status, id="x")],
                10,
            )
            service.put_compliance_items(tenant, request)
            if n < 3:
                service.put_compliance_items(other, request)
    for filters in ([], [Filter("Status", ("NON_COMPLIANT",))]):
        everything = service.list_resource_compliance_summaries(tenant, filters, None, 50).rows
        everything += service.list_resource_compliance_summaries(
            tenant, filters, (everything[-1].resource_id, everything[-1].compliance_type), 50
        ).rows
        key = (
            (lambda r: (r.resource_id, r.compliance_type))
            if sort == "resource"
            else (lambda r: (r.compliance_type, r.resource_id))
        )
        expected = sorted(everything, key=key, reverse=descending)
        assert len(expected) > 7

        pages, after = [], None
        while True:
            page = service.browse_resource_summaries(
                tenant, filters, sort, descending, after, None, 7
            )
            assert page.more_before == (after is not None)
            pages.append(page)
            if not page.more_after:
                break
            after = page.last_key
        assert [r for p in pages for r in p.rows] == expected

        # Back from the last page, each page is the one seen on the way forward.
        back = pages[-1]
        for previous in reversed(pages[:-1]):
            back = service.browse_resource_summaries(
                tenant, filters, sort, descending, None, back.first_key, 7
            )
            assert back.rows == previous.rows and back.more_after
        assert not back.more_before
