"""Compliance history and the event outbox in SQL: written by puts, read by operators.

Owns the statements on `compliance_history` and `compliance_events`. The put path runs one
prepared insert per changed (resource, type), plus one outbox insert when its status flipped,
inside the put's own transaction. Must not contain compliance rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from complyd.model import (
    ExecutionSummary,
    HistoryEntry,
    PendingEvent,
    Severity,
    Status,
    SummaryChange,
    Tenant,
)
from complyd.storage.engine import WRITE_OPTION
from complyd.storage.prepared import Prepared
from complyd.storage.schema import compliance_events, compliance_history
from complyd.storage.writer import WriterLock

HISTORY, EVENTS = compliance_history, compliance_events
PRUNE_BATCH = 5000


def _insert(table: sa.Table) -> Prepared:
    columns = [c.name for c in table.columns if c.name != "id"]
    return Prepared(sa.insert(table).values({c: sa.bindparam(c) for c in columns}))


_INSERT_HISTORY = _insert(HISTORY)
_INSERT_EVENT = _insert(EVENTS)


def record_change(
    dialect: sa.Dialect,
    cursor: Any,
    tenant: Tenant,
    resource_id: str,
    compliance_type: str,
    change: SummaryChange,
    now_ms: int,
) -> None:
    """Write the history row (and the outbox row of a status flip) in the put's transaction."""
    execution = change.execution
    key = {
        "account_id": tenant.account_id,
        "region": tenant.region,
        "resource_id": resource_id,
        "compliance_type": compliance_type,
    }
    _INSERT_HISTORY.execute(
        dialect,
        cursor,
        {
            **key,
            "recorded_ms": now_ms,
            "status": change.status.value if change.status else None,
            "overall_severity": change.overall_severity.value if change.overall_severity else None,
            "compliant_count": change.compliant,
            "non_compliant_count": change.non_compliant,
            "execution_time_ms": execution.execution_time_ms if execution else None,
            "execution_id": execution.execution_id if execution else None,
            "execution_type": execution.execution_type if execution else None,
            "fleet_delta": change.fleet_delta,
            "type_delta": change.type_delta,
        },
    )
    if change.status_flipped and change.status and change.overall_severity:
        _INSERT_EVENT.execute(
            dialect,
            cursor,
            {
                **key,
                "status": change.status.value,
                "severity": change.overall_severity.value,
                "created_ms": now_ms,
                "attempts": 0,
                "next_attempt_ms": now_ms,
            },
        )


class SqlHistory:
    """Reads of the history, pruning, and the outbox's delivery bookkeeping."""

    def __init__(self, engine: sa.Engine, lock: WriterLock | None = None) -> None:
        self.engine = engine
        # Taken like every other writer of the database takes it (storage.writer), so that a
        # put never finds the database's write lock held by a prune or an event's bookkeeping.
        self._lock = lock if lock is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction, from another thread than the server's event loop."""
        with self._lock, self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                yield conn

    def timeline(
        self, tenant: Tenant, resource_id: str, after_id: int | None, limit: int
    ) -> list[HistoryEntry]:
        """The resource's changes in the order they were made, strictly after `after_id`."""
        query = (
            _of_resource(tenant, resource_id)
            .where(HISTORY.c.id > (after_id if after_id is not None else -1))
            .order_by(HISTORY.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def recent(self, tenant: Tenant, resource_id: str, limit: int) -> list[HistoryEntry]:
        """The resource's last `limit` changes, oldest first."""
        query = _of_resource(tenant, resource_id).order_by(HISTORY.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_entry(r) for r in reversed(list(conn.execute(query)))]

    def fleet_deltas(self, tenant: Tenant, since_ms: int, bucket_ms: int) -> dict[int, int]:
        """{bucket number (recorded_ms // bucket_ms): net change of non-compliant resources}."""
        # A literal divisor: PostgreSQL matches GROUP BY to the select list only without binds.
        bucket = (HISTORY.c.recorded_ms // sa.literal_column(str(int(bucket_ms)))).label("bucket")
        query = (
            sa.select(bucket, sa.func.sum(HISTORY.c.fleet_delta))
            .where(
                HISTORY.c.account_id == tenant.account_id,
                HISTORY.c.region == tenant.region,
                HISTORY.c.recorded_ms >= since_ms,
                HISTORY.c.fleet_delta != 0,
            )
            .group_by(bucket)
        )
        with self.engine.connect() as conn:
            return {int(b): int(n) for b, n in conn.execute(query)}

    def type_deltas(
        self, tenant: Tenant, since_ms: int, bucket_ms: int
    ) -> dict[tuple[str, int], int]:
        """{(compliance type, bucket number): net change of its non-compliant resources}."""
        bucket = (HISTORY.c.recorded_ms // sa.literal_column(str(int(bucket_ms)))).label("bucket")
        query = (
            sa.select(HISTORY.c.compliance_type, bucket, sa.func.sum(HISTORY.c.type_delta))
            .where(
                HISTORY.c.account_id == tenant.account_id,
                HISTORY.c.region == tenant.region,
                HISTORY.c.recorded_ms >= since_ms,
                HISTORY.c.type_delta != 0,
            )
            .group_by(HISTORY.c.compliance_type, bucket)
        )
        with self.engine.connect() as conn:
            return {(str(t), int(b)): int(n) for t, b, n in conn.execute(query)}

    def prune(self, before_ms: int) -> int:
        """Delete changes recorded before `before_ms`, a batch at a time (short write locks)."""
        tenants = sa.select(HISTORY.c.account_id, HISTORY.c.region).distinct()
        removed = 0
        with self.engine.connect() as conn:
            pairs = list(conn.execute(tenants))
        for account_id, region in pairs:
            old = (
                sa.select(HISTORY.c.id)
                .where(
                    HISTORY.c.account_id == account_id,
                    HISTORY.c.region == region,
                    HISTORY.c.recorded_ms < before_ms,
                )
                .limit(PRUNE_BATCH)
            )
            while True:
                with self._write() as conn:
                    n = conn.execute(sa.delete(HISTORY).where(HISTORY.c.id.in_(old))).rowcount
                removed += n
                if n < PRUNE_BATCH:
                    break
        return removed

    def due_events(self, now_ms: int, limit: int) -> list[PendingEvent]:
        query = (
            sa.select(EVENTS)
            .where(EVENTS.c.next_attempt_ms <= now_ms)
            .order_by(EVENTS.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                PendingEvent(
                    r.id,
                    Tenant(r.account_id, r.region),
                    r.resource_id,
                    r.compliance_type,
                    Status(r.status),
                    Severity(r.severity),
                    r.created_ms,
                    r.attempts,
                )
                for r in conn.execute(query)
            ]

    def pending_events(self) -> int:
        """Events in the outbox, due or waiting for a retry."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one())

    def delivered(self, event_id: int) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(EVENTS).where(EVENTS.c.id == event_id))

    def retry_later(self, event_id: int, attempts: int, next_attempt_ms: int) -> None:
        with self._write() as conn:
            conn.execute(
                sa.update(EVENTS)
                .where(EVENTS.c.id == event_id)
                .values(attempts=attempts, next_attempt_ms=next_attempt_ms)
            )


def _of_resource(tenant: Tenant, resource_id: str) -> sa.Select[Any]:
    return sa.select(HISTORY).where(
        HISTORY.c.account_id == tenant.account_id,
        HISTORY.c.region == tenant.region,
        HISTORY.c.resource_id == resource_id,
    )


def _entry(r: Any) -> HistoryEntry:
    execution = None
    if r.execution_time_ms is not None:
        execution = ExecutionSummary(r.execution_time_ms, r.execution_id, r.execution_type)
    return HistoryEntry(
        id=r.id,
        resource_id=r.resource_id,
        compliance_type=r.compliance_type,
        recorded_ms=r.recorded_ms,
        status=Status(r.status) if r.status else None,
        overall_severity=Severity(r.overall_severity) if r.overall_severity else None,
        compliant=r.compliant_count,
        non_compliant=r.non_compliant_count,
        execution=execution,
    )
