"""One contract for every store: the SQL answers equal the pure reference rules.

Random puts go through the real service onto the real database; every list call, paged at a
random size, must equal what `complyd.summaries` and `complyd.filters.matches` compute from the
items the puts left behind.
"""

from __future__ import annotations

import itertools
import threading

import orjson
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complyd.config import Settings
from complyd.filters import ITEM_KEYS, SUMMARY_KEYS, matches, parse_filters
from complyd.model import (
    ExecutionSummary,
    Field,
    Filter,
    ItemEntry,
    Operator,
    PutRequest,
    ResourceSummary,
    Severity,
    Status,
    StoredItem,
    Tenant,
    UploadType,
)
from complyd.service import ComplianceService
from complyd.storage.schema import metadata
from complyd.storage.sql import SqlStore
from complyd.summaries import fleet_summaries, summarise_items
from complyd.wire import codec

tenants = (Tenant(f"{n:012d}", "us-east-1") for n in itertools.count(1))
RESOURCES = ["i-0000000a", "i-0000000b", "mi-0123456789abcdef0"]
TYPES = ["Association", "Patch", "Custom:Alpha", "Custom:beta"]
GROUPS = ["web", "db"]

entries = st.builds(
    ItemEntry,
    severity=st.sampled_from(list(Severity)),
    status=st.sampled_from(list(Status)),
    id=st.one_of(st.none(), st.sampled_from(["a", "b", "KB1", "KB2", ""])),
    title=st.one_of(st.none(), st.sampled_from(["Win", "Windows", "linux"])),
    details=st.dictionaries(st.just("PatchGroup"), st.sampled_from(GROUPS), max_size=1),
)
puts = st.builds(
    lambda rid, ctype, items, t, partial: PutRequest(
        rid,
        "ManagedInstance",
        ctype,
        ExecutionSummary(t, "exec-" + str(t)),
        items,
        10,
        upload_type=UploadType.PARTIAL if partial else UploadType.COMPLETE,
    ),
    st.sampled_from(RESOURCES),
    st.sampled_from(TYPES),
    st.lists(entries, max_size=5),
    st.integers(1_000, 1_010),
    st.booleans(),
)
summary_filters = st.lists(
    st.one_of(
        st.builds(
            Filter,
            st.just("ComplianceType"),
            st.tuples(st.sampled_from(TYPES + ["FleetTotal"])),
            st.sampled_from([Operator.EQUAL, Operator.NOT_EQUAL]),
        ),
        st.builds(
            Filter, st.just("ComplianceType"), st.just(("Custom:",)), st.just(Operator.BEGIN_WITH)
        ),
        st.builds(
            Filter, st.just("Status"), st.tuples(st.sampled_from(["COMPLIANT", "NON_COMPLIANT"]))
        ),
        st.builds(
            Filter,
            st.just("OverallSeverity"),
            st.tuples(st.sampled_from([s.value for s in Severity])),
            st.sampled_from(list(Operator)),
        ),
        st.builds(
            Filter,
            st.just("PatchGroup"),
            st.tuples(st.sampled_from(GROUPS)),
            st.sampled_from([Operator.EQUAL, Operator.NOT_EQUAL]),
        ),
        st.builds(
            Filter,
            st.just("ExecutionTime"),
            st.tuples(st.sampled_from(["1.004", "1.0"])),
            st.sampled_from([Operator.LESS_THAN, Operator.GREATER_THAN, Operator.EQUAL]),
        ),
    ),
    max_size=2,
)
item_filters = st.lists(
    st.one_of(
        st.builds(
            Filter,
            st.just("Title"),
            st.tuples(st.sampled_from(["Win", "li"])),
            st.sampled_from(list(Operator)),
        ),
        st.builds(
            Filter,
            st.just("Id"),
            st.tuples(st.sampled_from(["a", "KB", ""])),
            st.sampled_from(list(Operator)),
        ),
        st.builds(
            Filter,
            st.just("Severity"),
            st.tuples(st.sampled_from(["LOW", "HIGH"])),
            st.sampled_from(list(Operator)),
        ),
        st.builds(
            Filter,
            st.just("PatchGroup"),
            st.tuples(st.sampled_from(GROUPS)),
            st.sampled_from(list(Operator)),
        ),
        st.builds(Filter, st.just("ComplianceType"), st.tuples(st.sampled_from(TYPES))),
    ),
    max_size=2,
)

SUMMARY_VALUE = {
    Field.COMPLIANCE_TYPE: lambda r: r.compliance_type,
    Field.STATUS: lambda r: r.status.value,
    Field.OVERALL_SEVERITY: lambda r: r.overall_severity.value,
    Field.PATCH_GROUP: lambda r: r.patch_group,
    Field.EXECUTION_TIME: lambda r: r.execution.execution_time_ms,
}
ITEM_VALUE = {
    Field.TITLE: lambda i: i.entry.title,
    Field.ITEM_ID: lambda i: i.entry.id,
    Field.SEVERITY: lambda i: i.entry.severity.value,
    Field.DETAIL: lambda i: i.entry.details.get("PatchGroup"),
    Field.COMPLIANCE_TYPE: lambda i: i.compliance_type,
}


def wire(rows: object) -> object:
    """What a client reads: the rows through JSON and back."""
    return orjson.loads(orjson.dumps(rows))


def all_pages(fetch, size: int) -> list:  # type: ignore[no-untyped-def]
    rows, after = [], None
    for _ in range(1000):
        page = fetch(after, size)
        rows.extend(page.rows)
        if page.last_key is None:
            return rows
        after = page.last_key
    raise AssertionError("pagination did not end")


def test_migrations_create_the_schema_the_code_expects(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_token_key_is_created_once_and_kept(store_url: str) -> None:
    first = SqlStore(store_url)
    key = first.token_key()
    second = SqlStore(store_url)
    assert len(key) == 32 and second.token_key() == key
    first.close()
    second.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(puts, min_size=1, max_size=12),
    sfilters=summary_filters,
    ifilters=item_filters,
    size=st.integers(1, 4),
)
def test_lists_equal_the_reference(
    store: SqlStore,
    batch: list[PutRequest],
    sfilters: list[Filter],
    ifilters: list[Filter],
    size: int,
) -> None:
    tenant = next(tenants)
    service = ComplianceService(store, Settings())
    for put in batch:
        service.put_compliance_items(tenant, put)

    items: list[StoredItem] = all_pages(lambda a, n: store.list_items(tenant, None, [], a, n), size)
    keys = [(i.resource_id, i.compliance_type, i.item_key) for i in items]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    rows: list[ResourceSummary] = all_pages(
        lambda a, n: store.list_resource_summaries(tenant, [], a, n), size
    )
    assert [(r.resource_id, r.compliance_type) for r in rows] == sorted(
        {(i.resource_id, i.compliance_type) for i in items}
    )
    for r in rows:
        expected = summarise_items(
            [
                i.entry
                for i in items
                if (i.resource_id, i.compliance_type) == (r.resource_id, r.compliance_type)
            ]
        )
        assert (r.status, r.overall_severity, r.compliant, r.non_compliant, r.patch_group) == (
            expected.status,
            expected.overall_severity,
            expected.compliant,
            expected.non_compliant,
            expected.patch_group,
        )

    conditions = parse_filters(sfilters, SUMMARY_KEYS)
    selected = [r for r in rows if all(matches(c, SUMMARY_VALUE[c.field](r)) for c in conditions)]
    assert (
        all_pages(lambda a, n: store.list_resource_summaries(tenant, conditions, a, n), size)
        == selected
    )
    got = all_pages(lambda a, n: service.list_compliance_summaries(tenant, sfilters, a, n), size)
    expected_types = fleet_summaries(selected)
    type_conditions = [c for c in conditions if c.field is Field.COMPLIANCE_TYPE]
    if not all(matches(c, "FleetTotal") for c in type_conditions):
        expected_types = expected_types[1:]
    assert got == expected_types

    iconds = parse_filters(ifilters, ITEM_KEYS)
    expected_items = [i for i in items if all(matches(c, ITEM_VALUE[c.field](i)) for c in iconds)]
    assert (
        all_pages(lambda a, n: store.list_items(tenant, None, iconds, a, n), size) == expected_items
    )

    # The API's path: records encoded straight to the wire give the same JSON as the domain
    # objects encoded one by one.
    records = all_pages(lambda a, n: store.item_records(tenant, None, iconds, a, n), size)
    assert wire(codec.encode_item_records(records)) == wire(
        [codec.encode_item(i, "ManagedInstance") for i in expected_items]
    )
    summary_records = all_pages(lambda a, n: store.summary_records(tenant, conditions, a, n), size)
    assert wire(codec.encode_summary_records(summary_records)) == wire(
        [codec.encode_resource_summary(r) for r in selected]
    )


def test_concurrent_puts_to_one_type_never_mix(store: SqlStore) -> None:
    tenant = next(tenants)
    service = ComplianceService(store, Settings())
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for round_ in range(5):
                items = [
                    ItemEntry(Severity.LOW, Status.COMPLIANT, id=f"w{n}-{k}") for k in range(n + 1)
                ]
                service.put_compliance_items(
                    tenant,
                    PutRequest(
                        "i-0000000a",
                        "ManagedInstance",
                        "Custom:Race",
                        ExecutionSummary(1000 + round_),
                        items,
                        10,
                    ),
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    items = store.list_items(tenant, "i-0000000a", [], None, 50).rows
    owners = {i.entry.id.split("-")[0] for i in items if i.entry.id}
    assert len(owners) == 1
    n = int(owners.pop()[1:])
    assert len(items) == n + 1
    [row] = store.list_resource_summaries(tenant, [], None, 50).rows
    assert row.compliant.total == n + 1


def test_a_failed_put_writes_nothing(store: SqlStore) -> None:
    tenant = next(tenants)
    service = ComplianceService(store, Settings(total_size_limit=100))
    ok = PutRequest(
        "i-0000000a",
        "ManagedInstance",
        "Patch",
        ExecutionSummary(1),
        [ItemEntry(Severity.LOW, Status.COMPLIANT, id="a")],
        10,
    )
    service.put_compliance_items(tenant, ok)
    big = PutRequest(
        "i-0000000a",
        "ManagedInstance",
        "Patch",
        ExecutionSummary(2),
        [ItemEntry(Severity.HIGH, Status.NON_COMPLIANT, id="b", title="x" * 200)],
        10,
    )
    try:
        service.put_compliance_items(tenant, big)
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "TotalSizeLimitExceededException"
    else:
        raise AssertionError("expected TotalSizeLimitExceededException")
    items = store.list_items(tenant, None, [], None, 50).rows
    assert [i.entry.id for i in items] == ["a"]
    [row] = store.list_resource_summaries(tenant, [], None, 50).rows
    assert row.execution.execution_time_ms == 1 and row.status is Status.COMPLIANT


def test_counter_backfill_matches_live_counting(store: SqlStore) -> None:
    """Migration 0002 counts existing rows exactly as puts keep the counters."""
    from alembic import command

    from complyd.storage.engine import _alembic_config

    tenant = next(tenants)
    service = ComplianceService(store, Settings())
    for n, (ctype, status, severity) in enumerate(
        itertools.product(TYPES, list(Status), [Severity.LOW, Severity.CRITICAL])
    ):
        items = [ItemEntry(severity, status, id="a"), ItemEntry(Severity.MEDIUM, Status.COMPLIANT)]
        service.put_compliance_items(
            tenant,
            PutRequest(
                RESOURCES[n % len(RESOURCES)],
                "ManagedInstance",
                ctype,
                ExecutionSummary(n),
                items,
                10,
            ),
        )
    live = service.list_compliance_summaries(tenant, [], None, 50).rows
    assert live[0].compliance_type == "FleetTotal" and live[0].non_compliant.total > 0
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0001")
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert service.list_compliance_summaries(tenant, [], None, 50).rows == live
