"""The per-type non-compliant series on every backend, against a replay of the recorded
changes, before and after the migration that added the per-type deltas."""

from __future__ import annotations

import itertools
import random

import sqlalchemy as sa
from alembic import command

from complyd.config import Settings
from complyd.history import DAY_MS, fleet_non_compliant, types_non_compliant
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.engine import _alembic_config
from complyd.storage.schema import compliance_history
from complyd.storage.sql import SqlStore

tenants = (Tenant(f"{n:012d}", "eu-west-1") for n in itertools.count(700))
RESOURCES = [f"i-0000000{n}" for n in range(5)]
TYPES = ["Association", "Patch", "Custom:Disk"]
BASE_MS = 1_900_000_000_000 // DAY_MS * DAY_MS  # a day boundary in 2030
DAYS = 12


def seed(store: SqlStore, tenant: Tenant) -> None:
    """Random puts (flips, re-reports, removals), then their history spread over DAYS days."""
    service = ComplianceService(store, Settings())
    rng = random.Random(16)
    for n in range(60):
        status = rng.choice([Status.COMPLIANT, Status.NON_COMPLIANT])
        items = [] if rng.random() < 0.15 else [ItemEntry(Severity.HIGH, status, id="a")]
        request = PutRequest(
            rng.choice(RESOURCES),
            "ManagedInstance",
            rng.choice(TYPES),
            ExecutionSummary(1_000 + n),
            items,
            10,
        )
        service.put_compliance_items(tenant, request)
    with store.engine.begin() as conn:
        ids = conn.execute(
            sa.select(compliance_history.c.id)
            .where(compliance_history.c.account_id == tenant.account_id)
            .order_by(compliance_history.c.id)
        ).scalars()
        for index, row_id in enumerate(list(ids)):
            recorded = BASE_MS + (index * DAYS // 60) * DAY_MS + index
            conn.execute(
                sa.update(compliance_history)
                .where(compliance_history.c.id == row_id)
                .values(recorded_ms=recorded)
            )


def replay(store: SqlStore, tenant: Tenant, end_ms: int) -> tuple[dict[str, int], int]:
    """Non-compliant resources per type and for the fleet after the changes before end_ms."""
    history = compliance_history
    query = (
        sa.select(history.c.resource_id, history.c.compliance_type, history.c.status)
        .where(history.c.account_id == tenant.account_id, history.c.recorded_ms < end_ms)
        .order_by(history.c.id)
    )
    state: dict[tuple[str, str], str | None] = {}
    with store.engine.connect() as conn:
        for resource_id, compliance_type, status in conn.execute(query):
            state[(resource_id, compliance_type)] = status
    non = {k for k, v in state.items() if v == Status.NON_COMPLIANT.value}
    per_type = {t: sum(1 for (_, ct) in non if ct == t) for t in TYPES}
    return per_type, len({r for r, _ in non})


def test_type_series_equal_a_replay_of_the_history_and_survive_the_migration(
    store: SqlStore,
) -> None:
    tenant = next(tenants)
    seed(store, tenant)
    at = BASE_MS + DAYS * DAY_MS + 1
    series = types_non_compliant(store, tenant, DAYS + 1, DAY_MS, at_ms=at)
    fleet = fleet_non_compliant(store, tenant, DAYS + 1, DAY_MS, at_ms=at)
    assert set(series) <= set(TYPES) and series
    assert [t for t, _ in fleet] == [t for t, _ in next(iter(series.values()))]
    changed = False
    for index, (start, fleet_count) in enumerate(fleet):
        per_type, fleet_expected = replay(store, tenant, start + DAY_MS)
        assert fleet_count == fleet_expected, start
        for compliance_type, points in series.items():
            assert points[index] == (start, per_type[compliance_type]), (compliance_type, start)
        changed = changed or per_type != replay(store, tenant, start)[0]
    assert changed, "the seeded history should move the per-type counts"

    # A database of the previous schema (no per-type deltas) upgraded in place gives the same.
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0003")
    with store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("compliance_history")}
    assert "type_delta" not in columns
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert types_non_compliant(store, tenant, DAYS + 1, DAY_MS, at_ms=at) == series
    assert fleet_non_compliant(store, tenant, DAYS + 1, DAY_MS, at_ms=at) == fleet
