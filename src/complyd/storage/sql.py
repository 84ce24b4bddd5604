"""The Store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Owns reading and writing the tables of `schema`: items and their (resource, type) summary rows
change in one transaction; list calls read by keyset over the primary-key order, and fleet
counts come from summary rows, never from items. Must not contain compliance rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from complyd.model import (
    FLEET_TOTAL,
    Condition,
    ExecutionSummary,
    ItemEntry,
    Page,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
    StoredItem,
    Tenant,
    TypeSummary,
)
from complyd.storage.base import ResourceUsage
from complyd.storage.conditions import conditions_sql, severity_rank
from complyd.storage.engine import WRITE_OPTION, create_engine, migrate
from complyd.storage.schema import (
    COMPLIANT_COLUMNS,
    NON_COMPLIANT_COLUMNS,
    compliance_items,
    resource_summaries,
    server_state,
)

ITEMS, SUMMARIES = compliance_items, resource_summaries
TOKEN_KEY = "token_key"
CUSTOM_PREFIX = "Custom:"


def _tenant(table: sa.Table, tenant: Tenant) -> list[sa.ColumnElement[bool]]:
    return [table.c.account_id == tenant.account_id, table.c.region == tenant.region]


def _after(columns: Sequence[sa.ColumnElement[Any]], after: tuple[str, ...] | None) -> list[Any]:
    if after is None:
        return []
    return [sa.tuple_(*columns) > sa.tuple_(*(sa.literal(v) for v in after))]


def _execution(row: Any) -> ExecutionSummary:
    return ExecutionSummary(row.execution_time_ms, row.execution_id, row.execution_type)


def _item_from_row(row: Any) -> StoredItem:
    entry = ItemEntry(
        severity=Severity(row.severity),
        status=Status(row.status),
        id=row.item_id,
        title=row.title,
        details=row.details,
    )
    return StoredItem(
        resource_id=row.resource_id,
        compliance_type=row.compliance_type,
        item_key=row.item_key,
        entry=entry,
        execution=_execution(row),
        size=row.size,
    )


def _item_row(tenant: Tenant, item: StoredItem) -> dict[str, Any]:
    e = item.entry
    return {
        "account_id": tenant.account_id,
        "region": tenant.region,
        "resource_id": item.resource_id,
        "compliance_type": item.compliance_type,
        "item_key": item.item_key,
        "item_id": e.id,
        "title": e.title,
        "status": e.status.value,
        "severity": e.severity.value,
        "details": dict(e.details),
        "execution_time_ms": item.execution.execution_time_ms,
        "execution_id": item.execution.execution_id,
        "execution_type": item.execution.execution_type,
        "size": item.size,
    }


def _counts(row: Any, columns: Sequence[str]) -> SeverityCounts:
    c = [getattr(row, name) for name in columns]
    return SeverityCounts((c[0], c[1], c[2], c[3], c[4], c[5]))


def _summary_from_row(row: Any) -> ResourceSummary:
    return ResourceSummary(
        resource_id=row.resource_id,
        resource_type=row.resource_type,
        compliance_type=row.compliance_type,
        status=Status(row.status),
        overall_severity=Severity(row.overall_severity),
        compliant=_counts(row, COMPLIANT_COLUMNS),
        non_compliant=_counts(row, NON_COMPLIANT_COLUMNS),
        execution=_execution(row),
        content_hash=row.content_hash,
        patch_group=row.patch_group,
        total_size=row.total_size,
    )


def _summary_row(tenant: Tenant, s: ResourceSummary) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": tenant.account_id,
        "region": tenant.region,
        "resource_id": s.resource_id,
        "compliance_type": s.compliance_type,
        "resource_type": s.resource_type,
        "status": s.status.value,
        "overall_severity": s.overall_severity.value,
        "execution_time_ms": s.execution.execution_time_ms,
        "execution_id": s.execution.execution_id,
        "execution_type": s.execution.execution_type,
        "content_hash": s.content_hash,
        "patch_group": s.patch_group,
        "total_size": s.total_size,
    }
    row.update(zip(COMPLIANT_COLUMNS, s.compliant.counts, strict=True))
    row.update(zip(NON_COMPLIANT_COLUMNS, s.non_compliant.counts, strict=True))
    return row


def _page(
    rows: Sequence[Any], limit: int, key: Any
) -> tuple[Sequence[Any], tuple[str, ...] | None]:
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, key(rows[-1])
    return rows, None


def _halves(counts: Mapping[tuple[str, str], int]) -> tuple[SeverityCounts, SeverityCounts]:
    """{(status, severity): n} -> (compliant counts, non-compliant counts)."""
    compliant = {
        Severity(sev): n for (st, sev), n in counts.items() if st == Status.COMPLIANT.value
    }
    non = {Severity(sev): n for (st, sev), n in counts.items() if st == Status.NON_COMPLIANT.value}
    return SeverityCounts.of(compliant), SeverityCounts.of(non)


class SqlWriteTransaction:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def summary_for_update(
        self, tenant: Tenant, resource_id: str, compliance_type: str
    ) -> ResourceSummary | None:
        if self._postgres:
            # Serialises puts to one (resource, type) even before its summary row exists.
            lock_name = "\x1f".join(
                (tenant.account_id, tenant.region, resource_id, compliance_type)
            )
            self._conn.execute(
                sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(lock_name, 0)))
            )
        query = sa.select(SUMMARIES).where(
            *_tenant(SUMMARIES, tenant),
            SUMMARIES.c.resource_id == resource_id,
            SUMMARIES.c.compliance_type == compliance_type,
        )
        row = self._conn.execute(query).first()
        return _summary_from_row(row) if row else None

    def usage(self, tenant: Tenant, resource_id: str) -> ResourceUsage:
        custom = sa.func.substr(SUMMARIES.c.compliance_type, 1, len(CUSTOM_PREFIX)) == CUSTOM_PREFIX
        query = sa.select(
            sa.func.count().filter(custom), sa.func.coalesce(sa.func.sum(SUMMARIES.c.total_size), 0)
        ).where(*_tenant(SUMMARIES, tenant), SUMMARIES.c.resource_id == resource_id)
        custom_types, total = self._conn.execute(query).one()
        return ResourceUsage(custom_types=int(custom_types), total_size=int(total))

    def items_of_type(
        self, tenant: Tenant, resource_id: str, compliance_type: str
    ) -> list[StoredItem]:
        query = (
            sa.select(ITEMS)
            .where(
                *_tenant(ITEMS, tenant),
                ITEMS.c.resource_id == resource_id,
                ITEMS.c.compliance_type == compliance_type,
            )
            .order_by(ITEMS.c.item_key)
        )
        return [_item_from_row(r) for r in self._conn.execute(query)]

    def replace_type(
        self,
        tenant: Tenant,
        resource_id: str,
        compliance_type: str,
        summary: ResourceSummary | None,
        items: Sequence[StoredItem],
    ) -> None:
        for table in (ITEMS, SUMMARIES):
            self._conn.execute(
                sa.delete(table).where(
                    *_tenant(table, tenant),
                    table.c.resource_id == resource_id,
                    table.c.compliance_type == compliance_type,
                )
            )
        if items:
            self._conn.execute(sa.insert(ITEMS), [_item_row(tenant, i) for i in items])
        if summary is not None:
            self._conn.execute(sa.insert(SUMMARIES), [_summary_row(tenant, summary)])


class SqlStore:
    def __init__(self, url: str, *, apply_migrations: bool = True) -> None:
        self.engine = create_engine(url)
        if apply_migrations:
            migrate(self.engine)
        self._token_key: bytes | None = None

    @contextmanager
    def write(self) -> Iterator[SqlWriteTransaction]:
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                yield SqlWriteTransaction(conn)

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def list_items(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[StoredItem]:
        order = (ITEMS.c.resource_id, ITEMS.c.compliance_type, ITEMS.c.item_key)
        where = [*_tenant(ITEMS, tenant), *conditions_sql(ITEMS, conditions), *_after(order, after)]
        if resource_id is not None:
            where.append(ITEMS.c.resource_id == resource_id)
        query = sa.select(ITEMS).where(*where).order_by(*order).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        page, last = _page(rows, limit, lambda r: (r.resource_id, r.compliance_type, r.item_key))
        return Page([_item_from_row(r) for r in page], last)

    def list_resource_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ResourceSummary]:
        order = (SUMMARIES.c.resource_id, SUMMARIES.c.compliance_type)
        where = [
            *_tenant(SUMMARIES, tenant),
            *conditions_sql(SUMMARIES, conditions),
            *_after(order, after),
        ]
        query = sa.select(SUMMARIES).where(*where).order_by(*order).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        page, last = _page(rows, limit, lambda r: (r.resource_id, r.compliance_type))
        return Page([_summary_from_row(r) for r in page], last)

    def list_type_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
    ) -> Page[TypeSummary]:
        ctype = SUMMARIES.c.compliance_type
        where = [*_tenant(SUMMARIES, tenant), *conditions_sql(SUMMARIES, conditions)]
        if after is not None:
            where.append(ctype > after)
        types_query = (
            sa.select(ctype).where(*where).group_by(ctype).order_by(ctype).limit(limit + 1)
        )
        with self._read() as conn:
            found = [r[0] for r in conn.execute(types_query)]
            types, last = _page(found, limit, lambda t: (t,))
            counts: dict[str, dict[tuple[str, str], int]] = {t: {} for t in types}
            if types:
                status, severity = SUMMARIES.c.status, SUMMARIES.c.overall_severity
                count_query = (
                    sa.select(ctype, status, severity, sa.func.count())
                    .where(*where, ctype.in_(types))
                    .group_by(ctype, status, severity)
                )
                for t, st, sev, n in conn.execute(count_query):
                    counts[t][(st, sev)] = n
        rows = [TypeSummary(t, *_halves(counts[t])) for t in types]
        return Page(rows, last)

    def fleet_total(self, tenant: Tenant, conditions: Sequence[Condition]) -> TypeSummary:
        non_compliant = SUMMARIES.c.status == Status.NON_COMPLIANT.value
        rank = severity_rank(SUMMARIES.c.overall_severity)
        per_resource = (
            sa.select(
                sa.func.max(sa.case((non_compliant, 1), else_=0)).label("nc"),
                sa.func.max(sa.case((non_compliant, rank))).label("nc_rank"),
                sa.func.max(rank).label("any_rank"),
            )
            .where(*_tenant(SUMMARIES, tenant), *conditions_sql(SUMMARIES, conditions))
            .group_by(SUMMARIES.c.resource_id)
            .subquery()
        )
        sev_rank = sa.case(
            (per_resource.c.nc == 1, per_resource.c.nc_rank), else_=per_resource.c.any_rank
        )
        query = sa.select(per_resource.c.nc, sev_rank, sa.func.count()).group_by(
            per_resource.c.nc, sev_rank
        )
        by_rank = {s.rank: s.value for s in Severity}
        counts: dict[tuple[str, str], int] = {}
        with self._read() as conn:
            for nc, r, n in conn.execute(query):
                status = Status.NON_COMPLIANT if nc else Status.COMPLIANT
                counts[(status.value, by_rank[r])] = n
        return TypeSummary(FLEET_TOTAL, *_halves(counts))

    def tenants(self) -> list[Tenant]:
        # SELECT DISTINCT would read every summary row. Seeking along the index to the next
        # region of the same account, else to the next account, costs two probes per tenant.
        # (A row-value `(account_id, region) > (a, r)` seek is not used: SQLite scans with it.)
        account, region = SUMMARIES.c.account_id, SUMMARIES.c.region
        first = sa.select(account, region).order_by(account, region).limit(1)
        found: list[Tenant] = []
        with self._read() as conn:
            row = conn.execute(first).first()
            while row is not None:
                found.append(Tenant(row[0], row[1]))
                same_account = first.where(account == row[0], region > row[1])
                row = conn.execute(same_account).first()
                if row is None:
                    row = conn.execute(first.where(account > found[-1].account_id)).first()
        return found

    def token_key(self) -> bytes:
        if self._token_key is None:
            self._token_key = self._load_or_create_state(TOKEN_KEY, lambda: secrets.token_bytes(32))
        return self._token_key

    def _load_or_create_state(self, name: str, make: Any) -> bytes:
        query = sa.select(server_state.c.value).where(server_state.c.name == name)
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                value = conn.execute(query).scalar()
                if value is None:
                    try:
                        with conn.begin_nested():
                            conn.execute(sa.insert(server_state).values(name=name, value=make()))
                    except sa.exc.IntegrityError:
                        pass  # another replica created it first
                    value = conn.execute(query).scalar_one()
        return bytes(value)

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute(sa.select(1))

    def close(self) -> None:
        self.engine.dispose()
