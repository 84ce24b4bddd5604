"""Store.tenants(): the (account, region) pairs holding data, on every backend."""

from __future__ import annotations

from complyd.config import Settings
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.sql import SqlStore


def put(service: ComplianceService, tenant: Tenant, resource_id: str, items: int = 1) -> None:
    entries = [ItemEntry(Severity.HIGH, Status.COMPLIANT, id=str(n)) for n in range(items)]
    request = PutRequest(
        resource_id, "ManagedInstance", "Custom:Disk", ExecutionSummary(1_000), entries, 10
    )
    service.put_compliance_items(tenant, request)


def test_empty_store_has_no_tenants(store: SqlStore) -> None:
    assert store.tenants() == []


def test_each_pair_holding_data_once_in_order(store: SqlStore) -> None:
    service = ComplianceService(store, Settings())
    pairs = [
        Tenant("222222222222", "us-east-1"),
        Tenant("111111111111", "us-west-2"),
        Tenant("111111111111", "eu-west-1"),
        Tenant("111111111111", "us-east-1"),
        Tenant("333333333333", "ap-south-1"),
    ]
    for n, tenant in enumerate(pairs):
        for resource in range(3):
            put(service, tenant, f"i-{n:04d}{resource:04d}")
    # A tenant whose only type was emptied holds nothing any more.
    emptied = Tenant("444444444444", "us-east-1")
    put(service, emptied, "i-00000001")
    put(service, emptied, "i-00000001", items=0)
    assert store.tenants() == sorted(pairs, key=lambda t: (t.account_id, t.region))
