"""PostgreSQL reads and writes on the event loop (storage.aio), as the API makes them.

A connection the server has closed is replaced and the read or write runs again, once (so
are the kept connections of reads on threads); a put large enough to be COPYed leaves
pipeline mode for it; every acknowledged put is there after.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from complyd.config import Settings, database_url
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.bulk import COPY_FROM
from complyd.storage.sql import SqlStore
from tests.conftest import require_postgres
from tests.postgres import schemas
from tests.storage.loops import run

TENANT = Tenant("333344445555", "ap-south-1")


def request(resource: str, n: int, ctype: str = "Custom:loop") -> PutRequest:
    items = [ItemEntry(Severity.LOW, Status.COMPLIANT, id=f"i{k:05d}") for k in range(n)]
    return PutRequest(resource, "ManagedInstance", ctype, ExecutionSummary(1000), items, 10)


@pytest.fixture
def named_store() -> Iterator[tuple[SqlStore, str]]:
    """A store on a fresh schema whose connections carry an application name of their own,
    so a test can have the server close exactly those."""
    admin = database_url(require_postgres())
    name = f"complyd-loop-{uuid.uuid4().hex[:8]}"
    with schemas(admin) as made:
        store = SqlStore(f"{made.new('loop')}&application_name={name}")
        yield store, name
        store.close()


def close_server_side(name: str) -> int:
    """Have PostgreSQL end every backend of `name`, as a restart or an idle timeout would."""
    with psycopg.connect(require_postgres(), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def items_of(store: SqlStore, resource: str) -> list[str]:
    page = store.list_items(TENANT, resource, [], None, 1000)
    return [item.entry.id or "" for item in page.rows]


def test_connections_closed_by_the_server_are_replaced(
    named_store: tuple[SqlStore, str],
) -> None:
    store, name = named_store
    service = ComplianceService(store, Settings())

    async def main() -> tuple[int, int]:
        await service.put(TENANT, request("i-00000000000000001", 3))
        before = await store.run_read(
            lambda: store.item_records(TENANT, None, [], None, 100), bounded=True
        )
        closed = close_server_side(name)
        # Both idle loop connections are dead now; each call finds out and starts afresh.
        await service.put(TENANT, request("i-00000000000000002", 4))
        after = await store.run_read(
            lambda: store.item_records(TENANT, None, [], None, 100), bounded=True
        )
        assert len(before.rows) == 3
        return closed, len(after.rows)

    closed, after = run(main())
    assert closed >= 2  # the loop's read and write connections at least
    assert after == 3 + 4
    assert items_of(store, "i-00000000000000002") == [f"i{k:05d}" for k in range(4)]


def test_a_put_large_enough_to_copy_runs_on_the_loop(named_store: tuple[SqlStore, str]) -> None:
    store, _name = named_store
    service = ComplianceService(store, Settings())
    n = COPY_FROM * 3

    async def main() -> None:
        await asyncio.gather(
            service.put(TENANT, request("i-00000000000000003", n)),
            service.put(TENANT, request("i-00000000000000004", 2)),
        )
        # Replacing the large list with a small one deletes what the COPY wrote.
        await service.put(TENANT, request("i-00000000000000003", 1, "Custom:loop"))

    run(main())
    assert items_of(store, "i-00000000000000003") == ["i00000"]
    assert len(items_of(store, "i-00000000000000004")) == 2
    summary = store.list_resource_summaries(TENANT, [], None, 10).rows
    assert {s.resource_id: s.compliant.total for s in summary} == {
        "i-00000000000000003": 1,
        "i-00000000000000004": 2,
    }


def test_kept_read_connections_closed_by_the_server_are_replaced(
    named_store: tuple[SqlStore, str],
) -> None:
    store, name = named_store
    service = ComplianceService(store, Settings())
    service.put_compliance_items(TENANT, request("i-00000000000000005", 2))
    assert len(items_of(store, "i-00000000000000005")) == 2  # keeps a read connection
    store.ping()
    assert close_server_side(name) >= 1
    # Reads on this thread (the dashboard's, the operator's) go on as if nothing happened.
    store.ping()
    assert len(items_of(store, "i-00000000000000005")) == 2
