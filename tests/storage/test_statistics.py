"""A PostgreSQL store opened on tables that hold rows but have no planner statistics gathers
them first, and the analyzer gathers them for tables that fill up later, so a put's lookup of
its resource's summary rows reads the primary key instead of scanning the tenant's rows through
the per-type index."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from complyd.config import Settings, database_url
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage import engine as engine_module
from complyd.storage.sql import SqlStore
from complyd.storage.write import _RESOURCE_ROWS
from tests.conftest import require_postgres
from tests.postgres import schemas

TENANT = Tenant("123456789012", "us-east-1")
LAST_ANALYZED = sa.text(
    "SELECT relname, coalesce(last_analyze, last_autoanalyze) IS NOT NULL "
    "FROM pg_stat_user_tables WHERE schemaname = current_schema()"
)


@pytest.fixture
def url() -> Iterator[str]:
    with schemas(database_url(require_postgres())) as made:
        yield made.new("stats")


def analyzed(engine: sa.Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        return {str(name): bool(done) for name, done in conn.execute(LAST_ANALYZED)}


def lookup_index(engine: sa.Engine) -> str:
    """The index PostgreSQL's plan for a put's resource lookup reads."""
    sql, params = _RESOURCE_ROWS.sql_for(engine.dialect)
    values = params([TENANT.account_id, TENANT.region, "i-00000000000000007"])
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", tuple(values)).scalar()
    text = json.dumps(plan)
    names = [n for n in ("resource_summaries_pkey", "ix_resource_summaries_type") if n in text]
    assert len(names) == 1, text
    return names[0]


def fill(store: SqlStore, resources: int) -> None:
    service = ComplianceService(store, Settings())
    items = [ItemEntry(Severity.HIGH, Status.COMPLIANT, id=f"c{k}") for k in range(3)]
    for n in range(resources):
        for ctype in ("Custom:A", "Custom:B"):
            request = PutRequest(
                f"i-{n:017x}", "ManagedInstance", ctype, ExecutionSummary(1_000, None, None),
                items, 100,
            )  # fmt: skip
            service.put_compliance_items(TENANT, request)


def test_a_store_opened_on_unanalyzed_rows_analyzes_them(url: str) -> None:
    store = SqlStore(url)
    fill(store, 300)
    before = analyzed(store.engine)
    store.close()

    reopened = SqlStore(url)
    try:
        done = analyzed(reopened.engine)
        for table in ("resource_summaries", "compliance_items", "compliance_counts"):
            assert (before[table], done[table]) == (False, True), (before, done)
        assert not done["compliance_events"]  # empty: nothing to learn
        assert lookup_index(reopened.engine) == "resource_summaries_pkey"
    finally:
        reopened.close()


def test_analyzed_tables_are_left_alone(url: str) -> None:
    store = SqlStore(url)
    fill(store, 5)
    with store.engine.begin() as conn:
        assert "resource_summaries" in engine_module.analyze_unanalyzed(conn)
    with store.engine.begin() as conn:
        assert engine_module.analyze_unanalyzed(conn) == []
    store.close()


def test_tables_that_fill_up_later_are_analyzed_by_the_analyzer(url: str) -> None:
    store = SqlStore(url)  # opened on empty tables: nothing to analyze yet
    analyzer = engine_module.Analyzer(store.engine, interval=0.05)
    try:
        fill(store, 300)
        deadline = time.monotonic() + 20
        while not analyzed(store.engine)["resource_summaries"]:
            assert time.monotonic() < deadline, "the analyzer never analyzed the summaries"
            time.sleep(0.05)
        assert lookup_index(store.engine) == "resource_summaries_pkey"
    finally:
        analyzer.close()
        store.close()


def test_autovacuum_off_is_said_once(
    url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_autovacuum_said", False)
    with caplog.at_level(logging.WARNING, logger="complyd.storage"):
        SqlStore(url).close()
        SqlStore(url).close()
    said = [r for r in caplog.records if "autovacuum is off" in r.getMessage()]
    engine = sa.create_engine(database_url(require_postgres()))
    with engine.connect() as conn:
        off = conn.exec_driver_sql("SHOW autovacuum").scalar() == "off"
    engine.dispose()
    assert len(said) == (1 if off else 0)
