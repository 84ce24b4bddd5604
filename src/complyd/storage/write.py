"""The write transaction: a put's reads and writes, on statements compiled once.

Owns locking a resource (PostgreSQL), replacing a type's items and summary row, moving the fleet
counters and recording history, all inside the caller's transaction. Must not contain compliance
rules: what to write is decided by the service.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
import sqlalchemy as sa

from complyd.model import (
    CountChange,
    ResourceSummary,
    Rollup,
    StoredItem,
    SummaryChange,
    Tenant,
)
from complyd.storage.bulk import BulkInsert
from complyd.storage.history import record_change
from complyd.storage.prepared import Prepared
from complyd.storage.reset import clear
from complyd.storage.rows import (
    ItemRow,
    SummaryRow,
    item_from_row,
    item_row,
    summary_from_row,
    summary_row,
)
from complyd.storage.schema import (
    FLEET_KEY,
    compliance_counts,
    compliance_items,
    resource_summaries,
)

ITEMS, SUMMARIES, COUNTS = compliance_items, resource_summaries, compliance_counts

_TENANT_RESOURCE = (
    SUMMARIES.c.account_id == sa.bindparam("account_id"),
    SUMMARIES.c.region == sa.bindparam("region"),
    SUMMARIES.c.resource_id == sa.bindparam("resource_id"),
)
_RESOURCE_ROWS = Prepared(sa.select(SUMMARIES).where(*_TENANT_RESOURCE))
_DELETE_ITEMS = Prepared(
    sa.delete(ITEMS).where(
        ITEMS.c.account_id == sa.bindparam("account_id"),
        ITEMS.c.region == sa.bindparam("region"),
        ITEMS.c.resource_id == sa.bindparam("resource_id"),
        ITEMS.c.compliance_type == sa.bindparam("compliance_type"),
    )
)
_DELETE_SUMMARY = Prepared(
    sa.delete(SUMMARIES).where(
        *_TENANT_RESOURCE, SUMMARIES.c.compliance_type == sa.bindparam("compliance_type")
    )
)
_ITEMS_OF_TYPE = Prepared(
    sa.select(ITEMS)
    .where(
        ITEMS.c.account_id == sa.bindparam("account_id"),
        ITEMS.c.region == sa.bindparam("region"),
        ITEMS.c.resource_id == sa.bindparam("resource_id"),
        ITEMS.c.compliance_type == sa.bindparam("compliance_type"),
    )
    .order_by(ITEMS.c.item_key)
)
_INSERT_ITEMS = BulkInsert(ITEMS)
_INSERT_SUMMARY = Prepared(sa.insert(SUMMARIES))
_COUNT = Prepared(
    sa.text(
        "INSERT INTO compliance_counts (account_id, region, compliance_type, status, severity, "
        "resources) VALUES (:account_id, :region, :compliance_type, :status, :severity, :delta) "
        "ON CONFLICT (account_id, region, compliance_type, status, severity) "
        "DO UPDATE SET resources = compliance_counts.resources + excluded.resources"
    )
)
_LOCK = Prepared(
    sa.select(
        sa.func.pg_advisory_xact_lock(
            sa.func.hashtextextended(sa.bindparam("name"), sa.literal_column("0"))
        )
    )
)


class SqlWriteTransaction:
    """One write transaction; the put path runs prepared statements on the driver cursor."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._postgres = conn.dialect.name == "postgresql"

    def reset(self, tenant: Tenant | None) -> None:
        clear(self._conn, tenant)

    def lock_resource(self, tenant: Tenant, resource_id: str) -> list[ResourceSummary]:
        if self._postgres:
            # Serialises puts to one resource (its custom-type count and total size included),
            # even before any of its rows exist.
            name = "\x1f".join((tenant.account_id, tenant.region, resource_id))
            _LOCK.execute(self._conn, self._cursor, {"name": name})
        key = {"account_id": tenant.account_id, "region": tenant.region, "resource_id": resource_id}
        rows = _RESOURCE_ROWS.execute(self._conn, self._cursor, key).fetchall()
        return [summary_from_row(SummaryRow(*r)) for r in rows]

    def items_of_type(
        self, tenant: Tenant, resource_id: str, compliance_type: str
    ) -> list[StoredItem]:
        key = {
            "account_id": tenant.account_id,
            "region": tenant.region,
            "resource_id": resource_id,
            "compliance_type": compliance_type,
        }
        rows = _ITEMS_OF_TYPE.execute(self._conn, self._cursor, key).fetchall()
        return [item_from_row(ItemRow(*r)) for r in rows]

    def replace_type(
        self,
        tenant: Tenant,
        resource_id: str,
        compliance_type: str,
        summary: ResourceSummary | None,
        items: Sequence[StoredItem],
        counts: CountChange,
        change: SummaryChange | None = None,
    ) -> None:
        key = {
            "account_id": tenant.account_id,
            "region": tenant.region,
            "resource_id": resource_id,
            "compliance_type": compliance_type,
        }
        _DELETE_ITEMS.execute(self._conn, self._cursor, key)
        _DELETE_SUMMARY.execute(self._conn, self._cursor, key)
        if items:
            rows = [item_row(tenant, i) for i in items]
            for row in rows:
                row["details"] = orjson.dumps(row["details"]).decode()
            _INSERT_ITEMS.execute(self._conn, self._cursor, rows)
        if summary is not None:
            _INSERT_SUMMARY.execute(self._conn, self._cursor, summary_row(tenant, summary))
        self._move(
            tenant,
            [
                (compliance_type, counts.type_before, counts.type_after),
                (FLEET_KEY, counts.resource_before, counts.resource_after),
            ],
        )
        if change is not None:
            now_ms = time.time_ns() // 1_000_000
            record_change(
                self._conn, self._cursor, tenant, resource_id, compliance_type, change, now_ms
            )

    def _move(
        self, tenant: Tenant, moves: Sequence[tuple[str, Rollup | None, Rollup | None]]
    ) -> None:
        deltas: dict[tuple[str, str, str], int] = {}
        for key, before, after in moves:
            if before == after:
                continue  # the common re-report of an unchanged state writes no counter
            for rollup, delta in ((before, -1), (after, 1)):
                if rollup is not None:
                    row = (key, rollup[0].value, rollup[1].value)
                    deltas[row] = deltas.get(row, 0) + delta
        # Puts to other resources move the same counter rows at the same time (on PostgreSQL);
        # locking them in one global order keeps two such puts from deadlocking.
        for (key, status, severity), delta in sorted(deltas.items()):
            _COUNT.execute(
                self._conn,
                self._cursor,
                {
                    "account_id": tenant.account_id,
                    "region": tenant.region,
                    "compliance_type": key,
                    "status": status,
                    "severity": severity,
                    "delta": delta,
                },
            )
