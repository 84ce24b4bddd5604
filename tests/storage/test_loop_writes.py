"""Writes from an event loop (Store.write), as the API makes them, on every backend.

Many puts awaited at once share transactions on SQLite; one that fails (over the custom-type
limit) must change nothing and leave the others of its batch applied, and every acknowledged
put must be readable afterwards, also by a new store on the same database.
"""

from __future__ import annotations

import asyncio

from complyd.config import Settings
from complyd.errors import ComplianceTypeCountLimitExceededException
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.sql import SqlStore
from tests.storage.loops import run

TENANT = Tenant("222233334444", "eu-west-1")


def request(resource: str, ctype: str, n: int) -> PutRequest:
    items = [ItemEntry(Severity.HIGH, Status.COMPLIANT, id=f"i{k}") for k in range(n)]
    return PutRequest(resource, "ManagedInstance", ctype, ExecutionSummary(1000), items, 10)


def test_concurrent_puts_from_one_loop_all_land_and_a_failing_one_changes_nothing(
    store: SqlStore, store_url: str
) -> None:
    service = ComplianceService(store, Settings(max_custom_types=1))
    full = "i-00000000000000099"
    service.put_compliance_items(TENANT, request(full, "Custom:first", 1))

    async def main() -> list[BaseException | object]:
        puts = [service.put(TENANT, request(f"i-{n:017x}", "Custom:many", n % 4 + 1))
                for n in range(60)]  # fmt: skip
        puts.insert(30, service.put(TENANT, request(full, "Custom:second", 2)))
        return await asyncio.gather(*puts, return_exceptions=True)

    outcomes = run(main())
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], ComplianceTypeCountLimitExceededException)
    for reader in (store, SqlStore(store_url)):
        items = reader.list_items(TENANT, None, [], None, 1000).rows
        by_resource: dict[str, int] = {}
        for item in items:
            by_resource[item.resource_id] = by_resource.get(item.resource_id, 0) + 1
        assert by_resource.pop(full) == 1  # only the first type: the failed put left no trace
        assert by_resource == {f"i-{n:017x}": n % 4 + 1 for n in range(60)}
        if reader is not store:
            reader.close()


def test_puts_in_later_turns_start_new_transactions(store: SqlStore) -> None:
    service = ComplianceService(store, Settings())
    rounds = 3

    async def main() -> None:
        for r in range(rounds):
            await asyncio.gather(
                *(service.put(TENANT, request(f"i-{r:08x}{n:09x}", "Patch", 2)) for n in range(5))
            )

    run(main())
    rows = store.list_resource_summaries(TENANT, [], None, 100).rows
    assert len(rows) == rounds * 5
