"""The Store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Owns running writes (SQLite through one group-committing writer thread, PostgreSQL on a worker
pool; the transaction's own work is in `write`) and every read: list calls by keyset over the
primary-key order, fleet counts from the counters or from summary rows, never from items.
Must not contain compliance rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from complyd.model import (
    FLEET_TOTAL,
    Condition,
    Page,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
    StoredItem,
    Tenant,
    TypeSummary,
)
from complyd.storage.base import ComplianceCount, WriteTransaction
from complyd.storage.browse import BrowsePage, RowKey, summaries_page
from complyd.storage.conditions import Binds, conditions_sql, severity_rank, shape_of
from complyd.storage.engine import WRITE_OPTION, create_engine, migrate
from complyd.storage.history import SqlHistory
from complyd.storage.prepared import Prepared
from complyd.storage.rows import ItemRow, SummaryRow, item_from_row, summary_from_row
from complyd.storage.schema import (
    FLEET_KEY,
    compliance_counts,
    compliance_items,
    resource_summaries,
    server_state,
)
from complyd.storage.write import SqlWriteTransaction
from complyd.storage.writer import GroupCommitter

T = TypeVar("T")
ITEMS, SUMMARIES, COUNTS = compliance_items, resource_summaries, compliance_counts
TOKEN_KEY = "token_key"


def _tenant(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [
        table.c.account_id == sa.bindparam("account_id"),
        table.c.region == sa.bindparam("region"),
    ]


def _after(
    columns: Sequence[sa.ColumnElement[Any]], after: tuple[str, ...] | None, bind: Binds
) -> list[sa.ColumnElement[bool]]:
    if after is None:
        return []
    return [sa.tuple_(*columns) > sa.tuple_(*(bind(v) for v in after))]


def _page_query(
    table: sa.Table, where: Sequence[Any], order: Sequence[sa.ColumnElement[Any]]
) -> sa.Select[Any]:
    return sa.select(table).where(*where).order_by(*order).limit(sa.bindparam("limit"))


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


_FLEET_COUNTS = Prepared(
    sa.select(COUNTS.c.status, COUNTS.c.severity, COUNTS.c.resources).where(
        *(
            COUNTS.c.account_id == sa.bindparam("account_id"),
            COUNTS.c.region == sa.bindparam("region"),
            COUNTS.c.compliance_type == FLEET_KEY,
            COUNTS.c.resources > 0,
        )
    )
)


class SqlStore:
    """SQLite writes go through one group-committing writer thread; PostgreSQL writes run in
    their own transactions on a worker pool, serialised per (resource, type) by row locks."""

    def __init__(self, url: str, *, apply_migrations: bool = True, pool_size: int = 8) -> None:
        self.engine = create_engine(url, pool_size=pool_size)
        if apply_migrations:
            migrate(self.engine)
        self._token_key: bytes | None = None
        self.history = SqlHistory(self.engine)
        self._committer: GroupCommitter | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._queries: dict[tuple[Any, ...], Prepared] = {}
        if self.engine.dialect.name == "sqlite":
            self._committer = GroupCommitter(self._write_connection)
        else:
            # As many write workers as pooled connections (the URL may set the pool's size).
            workers = self.engine.pool.size() if isinstance(self.engine.pool, QueuePool) else 8
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="complyd-write")

    def _write_connection(self) -> sa.Connection:
        return self.engine.connect().execution_options(**{WRITE_OPTION: True})

    def submit_write(self, job: Callable[[WriteTransaction], T]) -> Future[T]:
        if self._committer is not None:
            return self._committer.submit(lambda conn: job(SqlWriteTransaction(conn)))
        assert self._executor is not None
        return self._executor.submit(self._write_now, job)

    def _write_now(self, job: Callable[[WriteTransaction], T]) -> T:
        with self._write_connection() as conn, conn.begin():
            return job(SqlWriteTransaction(conn))

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _query(self, shape: tuple[Any, ...], build: Callable[[], sa.Select[Any]]) -> Prepared:
        """The compiled form of a query of this shape, built on first use."""
        prepared = self._queries.get(shape)
        if prepared is None:
            if len(self._queries) > 4096:
                self._queries.clear()
            prepared = self._queries[shape] = Prepared(build())
        return prepared

    def _fetch(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        with self._read() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            rows: list[Any] = prepared.execute(conn, cursor, values).fetchall()
            return rows

    def list_items(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[StoredItem]:
        bind = Binds(account_id=tenant.account_id, region=tenant.region, limit=limit + 1)
        order = (ITEMS.c.resource_id, ITEMS.c.compliance_type, ITEMS.c.item_key)
        where = [
            *_tenant(ITEMS),
            *conditions_sql(ITEMS, conditions, bind),
            *_after(order, after, bind),
        ]
        if resource_id is not None:
            where.append(ITEMS.c.resource_id == bind(resource_id))
        shape = ("items", resource_id is None, after is None, shape_of(conditions))
        query = self._query(shape, lambda: _page_query(ITEMS, where, order))
        rows = [ItemRow(*r) for r in self._fetch(query, bind.values)]
        page, last = _page(rows, limit, lambda r: (r.resource_id, r.compliance_type, r.item_key))
        return Page([item_from_row(r) for r in page], last)

    def list_resource_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ResourceSummary]:
        bind = Binds(account_id=tenant.account_id, region=tenant.region, limit=limit + 1)
        order = (SUMMARIES.c.resource_id, SUMMARIES.c.compliance_type)
        where = [
            *_tenant(SUMMARIES),
            *conditions_sql(SUMMARIES, conditions, bind),
            *_after(order, after, bind),
        ]
        shape = ("summaries", after is None, shape_of(conditions))
        query = self._query(shape, lambda: _page_query(SUMMARIES, where, order))
        rows = [SummaryRow(*r) for r in self._fetch(query, bind.values)]
        page, last = _page(rows, limit, lambda r: (r.resource_id, r.compliance_type))
        return Page([summary_from_row(r) for r in page], last)

    def browse_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        sort: str,
        descending: bool,
        after: RowKey | None,
        before: RowKey | None,
        limit: int,
    ) -> BrowsePage:
        return summaries_page(
            self.engine, tenant, conditions, sort, descending, after, before, limit
        )

    def list_type_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
    ) -> Page[TypeSummary]:
        bind = Binds(account_id=tenant.account_id, region=tenant.region, limit=limit + 1)
        if conditions:
            # Filters select resource rows, so count the selected rows.
            table, ctype, status, severity = (
                SUMMARIES,
                SUMMARIES.c.compliance_type,
                SUMMARIES.c.status,
                SUMMARIES.c.overall_severity,
            )
            where = [*_tenant(SUMMARIES), *conditions_sql(SUMMARIES, conditions, bind)]
            count: sa.ColumnElement[Any] = sa.func.count()
        else:
            table, ctype, status, severity = (
                COUNTS,
                COUNTS.c.compliance_type,
                COUNTS.c.status,
                COUNTS.c.severity,
            )
            where = [*_tenant(COUNTS), ctype != FLEET_KEY, COUNTS.c.resources > 0]
            # PostgreSQL sums a BIGINT as NUMERIC, which the driver hands back as Decimal.
            count = sa.cast(sa.func.sum(COUNTS.c.resources), sa.BigInteger)
        if after is not None:
            where.append(ctype > bind(after))
        shape = ("types", table.name, after is None, shape_of(conditions))

        def build() -> sa.Select[Any]:
            # The page's types first (keyset, LIMIT), then their counts in one pass.
            types = (
                sa.select(ctype)
                .where(*where)
                .group_by(ctype)
                .order_by(ctype)
                .limit(sa.bindparam("limit"))
                .subquery()
            )
            return (
                sa.select(ctype, status, severity, count)
                .where(*where, ctype.in_(sa.select(types.c.compliance_type)))
                .group_by(ctype, status, severity)
                .order_by(ctype)
            )

        counts: dict[str, dict[tuple[str, str], int]] = {}
        for t, st, sev, n in self._fetch(self._query(shape, build), bind.values):
            counts.setdefault(t, {})[(st, sev)] = n
        types, last = _page(list(counts), limit, lambda t: (t,))
        return Page([TypeSummary(t, *_halves(counts[t])) for t in types], last)

    def fleet_total(self, tenant: Tenant, conditions: Sequence[Condition]) -> TypeSummary:
        counts: dict[tuple[str, str], int] = {}
        if not conditions:
            values = {"account_id": tenant.account_id, "region": tenant.region}
            for st, sev, n in self._fetch(_FLEET_COUNTS, values):
                counts[(st, sev)] = n
            return TypeSummary(FLEET_TOTAL, *_halves(counts))
        bind = Binds(account_id=tenant.account_id, region=tenant.region)
        where = [*_tenant(SUMMARIES), *conditions_sql(SUMMARIES, conditions, bind)]

        def build() -> sa.Select[Any]:
            non_compliant = SUMMARIES.c.status == Status.NON_COMPLIANT.value
            rank = severity_rank(SUMMARIES.c.overall_severity)
            per_resource = (
                sa.select(
                    sa.func.max(sa.case((non_compliant, 1), else_=0)).label("nc"),
                    sa.func.max(sa.case((non_compliant, rank))).label("nc_rank"),
                    sa.func.max(rank).label("any_rank"),
                )
                .where(*where)
                .group_by(SUMMARIES.c.resource_id)
                .subquery()
            )
            sev_rank = sa.case(
                (per_resource.c.nc == 1, per_resource.c.nc_rank), else_=per_resource.c.any_rank
            )
            return sa.select(per_resource.c.nc, sev_rank, sa.func.count()).group_by(
                per_resource.c.nc, sev_rank
            )

        by_rank = {s.rank: s.value for s in Severity}
        for nc, r, n in self._fetch(
            self._query(("fleet", shape_of(conditions)), build), bind.values
        ):
            status = Status.NON_COMPLIANT if nc else Status.COMPLIANT
            counts[(status.value, by_rank[r])] = n
        return TypeSummary(FLEET_TOTAL, *_halves(counts))

    def counts(self) -> list[ComplianceCount]:
        query = sa.select(COUNTS).where(COUNTS.c.resources > 0).order_by(*COUNTS.primary_key)
        with self._read() as conn:
            return [
                ComplianceCount(
                    Tenant(r.account_id, r.region),
                    r.compliance_type if r.compliance_type != FLEET_KEY else FLEET_TOTAL,
                    Status(r.status),
                    Severity(r.severity),
                    r.resources,
                )
                for r in conn.execute(query)
            ]

    def tenants(self) -> list[Tenant]:
        # SELECT DISTINCT would read every summary row, and the dashboard asks on every page.
        # Seeking along the index to the next region of the same account, else to the next
        # account, costs two probes per tenant. (A row-value `(account_id, region) > (a, r)`
        # seek is not used: SQLite scans with it.)
        account, region = SUMMARIES.c.account_id, SUMMARIES.c.region
        first = sa.select(account, region).order_by(account, region).limit(1)
        found: list[Tenant] = []
        with self._read() as conn:
            row = conn.execute(first).first()
            while row is not None:
                found.append(Tenant(row[0], row[1]))
                row = conn.execute(first.where(account == row[0], region > row[1])).first()
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
        if self._committer is not None:
            self._committer.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.engine.dispose()
