"""The write transaction: a put's reads and writes, on statements compiled once.

Owns locking a resource (PostgreSQL), replacing a type's items and summary row, moving the fleet
counters and recording history, all inside the caller's transaction, with values handed to the
driver as positional tuples (items are the store's `ItemRecord`s, the table's own column order).
Must not contain compliance rules: what to write is decided by the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from complyd.clock import now_ms
from complyd.model import (
    CountChange,
    ItemRecord,
    ResourceSummary,
    Rollup,
    SummaryChange,
    Tenant,
)
from complyd.storage.bulk import BulkInsert
from complyd.storage.changelog import record_change
from complyd.storage.prepared import Prepared
from complyd.storage.reset import clear
from complyd.storage.rows import summary_from_record
from complyd.storage.schema import (
    FLEET_KEY,
    ITEMS_DIGEST,
    RESOURCE_KEY,
    SUMMARY_FIELDS,
    compliance_counts,
    compliance_items,
    resource_summaries,
)

ITEMS, SUMMARIES, COUNTS = compliance_items, resource_summaries, compliance_counts


def _b(n: int) -> sa.BindParameter[Any]:
    return sa.bindparam(f"b{n}")


def _key(table: sa.Table, columns: int) -> list[sa.ColumnElement[bool]]:
    """The first `columns` columns of (account_id, region, resource_id, compliance_type)."""
    return [table.c[name] == _b(n) for n, name in enumerate(RESOURCE_KEY[:columns])]


# A resource's summary records, each followed by its type's items digest.
_RESOURCE_ROWS = Prepared(
    sa.select(*SUMMARY_FIELDS[2:], SUMMARIES.c[ITEMS_DIGEST]).where(*_key(SUMMARIES, 3))
)
_DIGEST_AT = len(SUMMARY_FIELDS) - 2
_ITEMS_OF_TYPE = Prepared(
    sa.select(*[sa.cast(c, sa.Text) if c.name == "details" else c for c in list(ITEMS.c)[2:]])
    .where(*_key(ITEMS, 4))
    .order_by(ITEMS.c.item_key)
)
_DELETE_ITEMS = Prepared(sa.delete(ITEMS).where(*_key(ITEMS, 4)))
_SET_EXECUTION = Prepared(
    sa.update(ITEMS)
    .where(*_key(ITEMS, 4))
    .values(execution_time_ms=_b(4), execution_id=_b(5), execution_type=_b(6))
)
_DELETE_SUMMARY = Prepared(sa.delete(SUMMARIES).where(*_key(SUMMARIES, 4)))
# Every item row of one put shares its tenant, resource and type: RESOURCE_KEY's columns.
_INSERT_ITEMS = BulkInsert(ITEMS, shared=len(RESOURCE_KEY))
# The upsert binds a summary record's values (summary_values), then the items digest.
_SUMMARY_COLUMNS = [*(c.name for c in SUMMARY_FIELDS), ITEMS_DIGEST]
# One statement whether or not the row exists: SQLite and PostgreSQL share this syntax.
_UPSERT_SUMMARY = Prepared(
    sa.text(
        f"INSERT INTO {SUMMARIES.name} ({', '.join(_SUMMARY_COLUMNS)}) VALUES "
        f"({', '.join(f':b{n}' for n in range(len(_SUMMARY_COLUMNS)))}) "
        f"ON CONFLICT ({', '.join(RESOURCE_KEY)}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _SUMMARY_COLUMNS if c not in RESOURCE_KEY)
    )
)
_COUNT = Prepared(
    sa.text(
        "INSERT INTO compliance_counts (account_id, region, compliance_type, status, severity, "
        "resources) VALUES (:b0, :b1, :b2, :b3, :b4, :b5) "
        "ON CONFLICT (account_id, region, compliance_type, status, severity) "
        "DO UPDATE SET resources = compliance_counts.resources + excluded.resources"
    )
)
_LOCK = Prepared(
    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(_b(0), sa.literal(0))))
)


def items_digest(items: Sequence[ItemRecord]) -> bytes:
    """What a type's item rows hold but their execution summaries: each record's key, Id,
    Title, Status, Severity and Details (its size follows from them)."""
    return hashlib.blake2b(orjson.dumps([r[2:8] for r in items]), digest_size=16).digest()


def _one_execution(items: Sequence[ItemRecord]) -> tuple[Any, ...] | None:
    """The execution summary every record carries, if they all carry the same one."""
    first = items[0][8:11]
    return first if all(r[8:11] == first for r in items) else None


def summary_values(tenant: Tenant, s: ResourceSummary) -> list[Any]:
    """A summary record's values, in the order of SUMMARY_FIELDS."""
    e = s.execution
    return [
        tenant.account_id,
        tenant.region,
        s.resource_id,
        s.compliance_type,
        s.resource_type,
        s.status.value,
        s.overall_severity.value,
        *s.compliant.counts,
        *s.non_compliant.counts,
        e.execution_time_ms,
        e.execution_id,
        e.execution_type,
        s.content_hash,
        s.patch_group,
        s.total_size,
    ]


class SqlWriteTransaction:
    """One write transaction; the put path runs prepared statements on the driver cursor."""

    def __init__(self, dialect: sa.Dialect, cursor: Any) -> None:
        self._cursor = cursor
        self._dialect = dialect
        self._postgres = dialect.name == "postgresql"
        # The stored items digest of each type of the resource `lock_resource` read.
        self._digests: dict[str, bytes | None] = {}

    @classmethod
    def on(cls, conn: sa.Connection) -> SqlWriteTransaction:
        """The transaction `conn` has begun, on its driver cursor."""
        return cls(conn.dialect, conn.connection.driver_connection.cursor())  # type: ignore[union-attr]

    def reset(self, tenant: Tenant | None) -> None:
        clear(self._dialect, self._cursor, tenant)

    def _run(self, statement: Prepared, values: list[Any]) -> Any:
        sql, params = statement.sql_for(self._dialect)
        self._cursor.execute(sql, params(values))
        return self._cursor

    def lock_resource(self, tenant: Tenant, resource_id: str) -> list[ResourceSummary]:
        if self._postgres:
            # Serialises puts to one resource (its custom-type count and total size included),
            # even before any of its rows exist: a transaction-scoped advisory lock.
            self._run(_LOCK, ["\x1f".join((tenant.account_id, tenant.region, resource_id))])
        rows = self._run(_RESOURCE_ROWS, [tenant.account_id, tenant.region, resource_id]).fetchall()
        self._digests = {r[1]: r[_DIGEST_AT] for r in rows}
        return [summary_from_record(r) for r in rows]

    def items_of_type(
        self, tenant: Tenant, resource_id: str, compliance_type: str
    ) -> list[ItemRecord]:
        values = [tenant.account_id, tenant.region, resource_id, compliance_type]
        rows: list[ItemRecord] = self._run(_ITEMS_OF_TYPE, values).fetchall()
        return rows

    def replace_type(
        self,
        tenant: Tenant,
        resource_id: str,
        compliance_type: str,
        summary: ResourceSummary | None,
        items: Sequence[ItemRecord],
        counts: CountChange,
        change: SummaryChange | None = None,
    ) -> None:
        key = [tenant.account_id, tenant.region, resource_id, compliance_type]
        digest = items_digest(items) if items else None
        execution = None
        if digest is not None and digest == self._digests.get(compliance_type):
            # The rows hold these items already: only their execution summary can differ.
            execution = _one_execution(items)
        if execution is not None:
            self._run(_SET_EXECUTION, [*key, *execution])
        else:
            self._run(_DELETE_ITEMS, key)
            # Records start with the resource id and type, the rest of the rows' shared key.
            _INSERT_ITEMS.execute(self._dialect, self._cursor, key[:2], items)
        if summary is not None:
            self._run(_UPSERT_SUMMARY, [*summary_values(tenant, summary), digest])
        else:
            self._run(_DELETE_SUMMARY, key)
        self._move(
            tenant,
            [
                (compliance_type, counts.type_before, counts.type_after),
                (FLEET_KEY, counts.resource_before, counts.resource_after),
            ],
        )
        if change is not None:
            record_change(
                self._dialect, self._cursor, tenant, resource_id, compliance_type, change, now_ms()
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
            values = [tenant.account_id, tenant.region, key, status, severity, delta]
            self._run(_COUNT, values)
