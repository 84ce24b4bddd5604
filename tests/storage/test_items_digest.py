"""A put that re-reports a type's items as stored rewrites only their execution summaries; any
other put rewrites the rows. Either way the store answers as a full replace would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from complyd.config import Settings, database_url
from complyd.model import (
    ExecutionSummary,
    ItemEntry,
    PutRequest,
    Severity,
    Status,
    Tenant,
    UploadType,
)
from complyd.service import ComplianceService
from complyd.storage.engine import _alembic_config
from complyd.storage.schema import ITEMS_DIGEST
from complyd.storage.sql import SqlStore
from complyd.storage.write import items_digest
from tests.conftest import require_postgres
from tests.postgres import schemas

tenants = (Tenant(f"{n:012d}", "us-east-1") for n in itertools.count(500))
NODE = "i-0000000a"


def entries(title: str = "t", status: Status = Status.COMPLIANT) -> list[ItemEntry]:
    return [
        ItemEntry(Severity.HIGH, status, id="a", title=title, details={"k": "v"}),
        ItemEntry(Severity.LOW, Status.NON_COMPLIANT, id="b"),
        ItemEntry(Severity.MEDIUM, Status.COMPLIANT),  # no Id: keyed by its place
    ]


def put(
    service: ComplianceService,
    tenant: Tenant,
    items: list[ItemEntry],
    at: int,
    ctype: str = "Custom:Scan",
    upload: UploadType = UploadType.COMPLETE,
    execution_id: str | None = None,
) -> None:
    service.put_compliance_items(
        tenant,
        PutRequest(
            NODE,
            "ManagedInstance",
            ctype,
            ExecutionSummary(at, execution_id, "Command" if execution_id else None),
            items,
            100,
            upload_type=upload,
        ),
    )


def held(
    service: ComplianceService, tenant: Tenant
) -> list[tuple[str, ItemEntry, ExecutionSummary, int]]:
    rows = service.list_compliance_items(tenant, [NODE], None, [], None, 50).rows
    return [(r.compliance_type, r.entry, r.execution, r.size) for r in rows]


def test_a_re_report_with_a_new_execution_moves_every_item_to_it(store: SqlStore) -> None:
    service, tenant = ComplianceService(store, Settings()), next(tenants)
    put(service, tenant, entries(), 1_000)
    put(service, tenant, entries(), 2_000, execution_id="run-2")
    rows = held(service, tenant)
    assert [r[1] for r in rows] == entries()
    assert {r[2] for r in rows} == {ExecutionSummary(2_000, "run-2", "Command")}
    summary = service.store.list_resource_summaries(tenant, [], None, 10).rows[0]
    assert summary.execution == ExecutionSummary(2_000, "run-2", "Command")


def test_a_put_that_changes_any_item_rewrites_the_rows(store: SqlStore) -> None:
    service, tenant = ComplianceService(store, Settings()), next(tenants)
    put(service, tenant, entries(), 1_000)
    put(service, tenant, entries(title="changed", status=Status.NON_COMPLIANT), 2_000)
    assert [r[1] for r in held(service, tenant)] == entries("changed", Status.NON_COMPLIANT)
    put(service, tenant, entries("changed", Status.NON_COMPLIANT)[:2], 3_000)  # one item fewer
    rows = held(service, tenant)
    assert [r[1] for r in rows] == entries("changed", Status.NON_COMPLIANT)[:2]
    assert {r[2].execution_time_ms for r in rows} == {3_000}


def test_items_upserted_by_id_keep_their_own_executions(store: SqlStore) -> None:
    service, tenant = ComplianceService(store, Settings()), next(tenants)
    put(service, tenant, entries()[:2], 1_000, ctype="Association")
    # The same content for item a, later: a PARTIAL Association put upserts it alone.
    put(service, tenant, entries()[:1], 2_000, ctype="Association", upload=UploadType.PARTIAL)
    assert [r[2].execution_time_ms for r in held(service, tenant)] == [2_000, 1_000]
    # Same content again, all of it: every item moves to the new execution.
    put(service, tenant, entries()[:2], 3_000, ctype="Association")
    assert [r[2].execution_time_ms for r in held(service, tenant)] == [3_000, 3_000]
    put(service, tenant, entries()[1:2], 4_000, ctype="Association", upload=UploadType.PARTIAL)
    assert [r[2].execution_time_ms for r in held(service, tenant)] == [3_000, 4_000]
    assert [r[1] for r in held(service, tenant)] == entries()[:2]


def test_the_digest_covers_every_stored_field_but_the_execution() -> None:
    base: tuple[Any, ...] = (
        "i-1",
        "Custom:A",
        "aa",
        "a",
        "title",
        "COMPLIANT",
        "HIGH",
        "{}",
        1,
        None,
        None,
        9,
    )
    later = base[:8] + (2, "run", "Command") + base[11:]
    assert items_digest([base]) == items_digest([later])
    for field in range(2, 8):
        changed = base[:field] + ("other",) + base[field + 1 :]
        assert items_digest([changed]) != items_digest([base]), field
    assert items_digest([base, later]) != items_digest([base])


def digests(store: SqlStore) -> list[bytes | None]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(sa.text(f"SELECT {ITEMS_DIGEST} FROM resource_summaries")).scalars()
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def kept_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store that outlives its process's connections (not the in-memory one)."""
    if request.param == "sqlite":
        yield database_url(str(tmp_path / "kept.db"))
        return
    with schemas(database_url(require_postgres())) as made:
        yield made.new("t")


def test_a_database_of_the_previous_schema_answers_the_same_and_takes_re_reports(
    kept_url: str,
) -> None:
    store_url = kept_url
    store = SqlStore(store_url)
    service, tenant = ComplianceService(store, Settings()), next(tenants)
    put(service, tenant, entries(), 1_000)
    put(service, tenant, entries()[1:], 1_000, ctype="Patch")
    before = held(service, tenant)
    summaries = store.list_resource_summaries(tenant, [], None, 10).rows
    # The schema of the previous release, holding what it wrote: no digest column.
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0004")
    with store.engine.connect() as conn:
        columns = [c["name"] for c in sa.inspect(conn).get_columns("resource_summaries")]
    assert ITEMS_DIGEST not in columns
    store.close()

    store = SqlStore(store_url)  # upgrades it
    service = ComplianceService(store, Settings())
    assert held(service, tenant) == before
    assert store.list_resource_summaries(tenant, [], None, 10).rows == summaries
    assert digests(store) == [None, None]
    put(service, tenant, entries(), 2_000)  # the digest is not known: the rows are rewritten
    put(service, tenant, entries(), 3_000)
    rows = held(service, tenant)
    assert [r[1] for r in rows if r[0] == "Custom:Scan"] == entries()
    assert {r[2].execution_time_ms for r in rows if r[0] == "Custom:Scan"} == {3_000}
    assert [r for r in rows if r[0] == "Patch"] == [r for r in before if r[0] == "Patch"]
    assert sorted(d is None for d in digests(store)) == [False, True]
    store.close()
