"""The history log and event outbox on every backend: written with puts, read back, pruned."""

from __future__ import annotations

import time

from complyd.config import Settings
from complyd.history import fleet_non_compliant, timeline
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.sql import SqlStore

TENANT = Tenant("111111111111", "us-east-1")


def put(service: ComplianceService, rid: str, status: Status, when: int) -> None:
    entries = [ItemEntry(Severity.HIGH, status, id="KB1")]
    request = PutRequest(rid, "ManagedInstance", "Patch", ExecutionSummary(when), entries, 10)
    service.put_compliance_items(TENANT, request)


def test_changes_events_and_pruning(store: SqlStore) -> None:
    service = ComplianceService(store, Settings(webhooks=("http://127.0.0.1:9/hook",)))
    put(service, "i-00000001", Status.COMPLIANT, 1_000)
    put(service, "i-00000001", Status.COMPLIANT, 1_000)  # unchanged: no row
    put(service, "i-00000001", Status.NON_COMPLIANT, 2_000)
    put(service, "i-00000002", Status.NON_COMPLIANT, 2_000)

    entries = list(timeline(store, TENANT, "i-00000001"))
    assert [
        (e.status, e.execution.execution_time_ms if e.execution else None) for e in entries
    ] == [
        (Status.COMPLIANT, 1_000),
        (Status.NON_COMPLIANT, 2_000),
    ]
    points = fleet_non_compliant(store, TENANT, 1.0, bucket_ms=3_600_000)
    assert points[-1][1] == 2 and points[0][1] == 0

    events = store.history.due_events(time.time_ns() // 1_000_000 + 1, 10)
    assert [(e.resource_id, e.status) for e in events] == [
        ("i-00000001", Status.COMPLIANT),
        ("i-00000001", Status.NON_COMPLIANT),
        ("i-00000002", Status.NON_COMPLIANT),
    ]
    store.history.delivered(events[0].id)
    far = time.time_ns() // 1_000_000 + 60_000
    store.history.retry_later(events[1].id, 1, far)
    due = store.history.due_events(time.time_ns() // 1_000_000 + 1, 10)
    assert [e.id for e in due] == [events[2].id]
    assert [e.attempts for e in store.history.due_events(far, 10)] == [1, 0]

    assert store.history.prune(time.time_ns() // 1_000_000 + 1) == 3
    assert list(timeline(store, TENANT, "i-00000001")) == []
    # The series still ends at the current count: it is computed backwards from it.
    assert fleet_non_compliant(store, TENANT, 1.0)[-1][1] == 2
