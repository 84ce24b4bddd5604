"""Puts' item rows (written with COPY or multi-row INSERTs on PostgreSQL, in multi-row INSERTs on
SQLite) keep every value exactly, on every backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from complyd.config import Settings
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage import schema
from complyd.storage.bulk import COPY_FROM, BulkInsert
from complyd.storage.sql import SqlStore
from tests.storage.loops import run

# Characters COPY's text format escapes, and some that it must pass through untouched.
AWKWARD = ["tab\there", "line\nbreak", "back\\slash", "\\N", "quote\"'", "ünï☃de", "\r", ""]


@pytest.mark.parametrize(
    ("count", "on_loop"),
    [(4 * COPY_FROM + 3, False), (4 * COPY_FROM + 3, True), (COPY_FROM - 1, False), (33, True)],
)
def test_a_put_round_trips_every_value(store: SqlStore, count: int, on_loop: bool) -> None:
    # Below COPY_FROM rows PostgreSQL takes multi-row INSERTs (33: one of 32 rows and one of 1),
    # at or above it COPY; on the event loop through its async connections, else on a thread.
    tenant = Tenant("123456789012", "eu-west-1")
    service = ComplianceService(store, Settings(total_size_limit=10_000_000))
    entries = []
    for k in range(count):
        text = AWKWARD[k % len(AWKWARD)]
        entries.append(
            ItemEntry(
                severity=list(Severity)[k % 6],
                status=Status.NON_COMPLIANT if k % 5 == 0 else Status.COMPLIANT,
                id=None if k % 9 == 0 else f"id-{k:04d}-{text}",
                title=None if k % 4 == 0 else f"{text} {k}",
                details={} if k % 3 else {"DocumentName": text, "PatchGroup": f"g{k}\t"},
            )
        )
    execution = ExecutionSummary(1_700_000_000_123, "run\t1", None)
    request = PutRequest(
        "i-0123456789abcdef0", "ManagedInstance", "Custom:Big", execution, entries, 10
    )
    if on_loop:
        run(service.put(tenant, request))
    else:
        service.put_compliance_items(tenant, request)
    got, after = [], None
    while True:
        page = store.list_items(tenant, None, [], after, 50)
        got.extend(page.rows)
        if page.last_key is None:
            break
        after = page.last_key
    assert len(got) == count
    with_id = sorted((e for e in entries if e.id is not None), key=lambda e: e.id or "")
    without_id = [e for e in entries if e.id is None]
    assert [i.entry for i in got] == with_id + without_id
    assert {i.execution for i in got} == {execution}
    [row] = store.list_resource_summaries(tenant, [], None, 50).rows
    assert row.compliant.total + row.non_compliant.total == count


@pytest.mark.parametrize("variable_limit", [None, 999, 30])
@pytest.mark.parametrize("count", [1, 10, 32, 33, 513, 1300])
def test_sqlite_inserts_every_row_once_whatever_the_bound_value_limit(
    tmp_path: Path, count: int, variable_limit: int | None
) -> None:
    # 999 bound values per statement is the limit of SQLite builds before 3.32; 30 leaves room
    # for two rows of this table's ten own columns only.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    schema.metadata.create_all(engine, tables=[schema.compliance_items])
    shared = ("123456789012", "eu-west-1", "i-0123456789abcdef0", "Custom:Bulk")
    rows = [
        (
            f"a{k:05d}",
            f"{k:05d}",
            None if k % 2 else f"t\t{k}",
            "COMPLIANT",
            "LOW",
            "{}",
            1_700_000_000_000 + k,
            None,
            "run",
            k,
        )
        for k in range(count)
    ]
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        if variable_limit is not None:
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variable_limit)
        # Two shared values given once, two more at the start of every row.
        BulkInsert(schema.compliance_items, shared=4).execute(
            conn.dialect, driver.cursor(), shared[:2], [(*shared[2:], *r) for r in rows]
        )
        stored = driver.execute("SELECT * FROM compliance_items ORDER BY item_key").fetchall()
    engine.dispose()
    assert stored == [(*shared, *r) for r in rows]
