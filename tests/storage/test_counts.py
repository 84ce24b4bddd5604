"""Store.counts(): every tenant's non-zero fleet counters, on every backend."""

from __future__ import annotations

from complyd.config import Settings
from complyd.model import (
    FLEET_TOTAL,
    ExecutionSummary,
    ItemEntry,
    PutRequest,
    Severity,
    Status,
    Tenant,
)
from complyd.service import ComplianceService
from complyd.storage.base import ComplianceCount
from complyd.storage.sql import SqlStore


def put(
    service: ComplianceService,
    tenant: Tenant,
    resource_id: str,
    ctype: str,
    items: list[ItemEntry],
    when: int = 1_000,
) -> None:
    request = PutRequest(resource_id, "ManagedInstance", ctype, ExecutionSummary(when), items, 10)
    service.put_compliance_items(tenant, request)


def test_counts_follow_puts_and_leave_out_zeros(store: SqlStore) -> None:
    service = ComplianceService(store, Settings())
    a, b = Tenant("111111111111", "us-east-1"), Tenant("222222222222", "eu-west-1")
    high_bad = [ItemEntry(Severity.HIGH, Status.NON_COMPLIANT, id="x")]
    low_ok = [ItemEntry(Severity.LOW, Status.COMPLIANT, id="y")]
    put(service, a, "i-00000001", "Patch", high_bad)
    put(service, a, "i-00000002", "Patch", low_ok)
    put(service, b, "i-00000001", "Custom:Disk", low_ok)
    # i-00000001 of tenant a turns compliant: its non-compliant counters drop to zero.
    put(service, a, "i-00000001", "Patch", low_ok, when=2_000)

    def count(t: Tenant, ctype: str, n: int) -> ComplianceCount:
        return ComplianceCount(t, ctype, Status.COMPLIANT, Severity.LOW, n)

    assert sorted(store.counts(), key=lambda c: (c.tenant.account_id, c.compliance_type)) == [
        count(a, FLEET_TOTAL, 2),
        count(a, "Patch", 2),
        count(b, "Custom:Disk", 1),
        count(b, FLEET_TOTAL, 1),
    ]
