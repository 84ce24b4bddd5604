"""Every read of the store: list pages by keyset and fleet counts, on plain DB-API connections.

Owns the read connections (a stack of driver connections in autocommit, one per concurrent
reader, so a read takes no pool checkout and no transaction begin), the SQL of each query shape
(compiled once, then run with only its values computed per call), and reading rows as plain
tuples: list pages come back as `ItemRecord` / `SummaryRecord` tuples, never as domain objects.
Fleet counts read the counters every put keeps, or, under filters, the summary rows; never the
items. Must not contain compliance rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from complyd.model import (
    FLEET_TOTAL,
    Condition,
    ItemRecord,
    Page,
    Severity,
    SeverityCounts,
    Status,
    SummaryRecord,
    Tenant,
    TypeSummary,
)
from complyd.storage.aio import bound_connection
from complyd.storage.base import ComplianceCount
from complyd.storage.conditions import (
    COUNTER_COLUMNS,
    Binds,
    binds,
    conditions_sql,
    conditions_values,
    severity_rank,
    shape_of,
)
from complyd.storage.prepared import Prepared
from complyd.storage.schema import (
    FLEET_KEY,
    SUMMARY_FIELDS,
    compliance_counts,
    compliance_items,
    resource_summaries,
)

ITEMS, SUMMARIES, COUNTS = compliance_items, resource_summaries, compliance_counts
MAX_SHAPES = 4096


class ReadConnections:
    """Driver connections for reads, reused LIFO without a pool checkout per read; each in
    autocommit, so every statement reads one consistent snapshot and nothing is left open
    between calls."""

    def __init__(self, engine: sa.Engine, keep: int) -> None:
        self._engine = engine
        # Connections kept for reuse; more concurrent readers than this give theirs back to
        # the engine's pool afterwards.
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        # The driver's "connection lost" error; only PostgreSQL's connections can be closed
        # under a reader by the server (SQLite's OperationalError means something else).
        self._lost: type[BaseException] = engine.dialect.dbapi.OperationalError  # type: ignore[union-attr]
        postgres = engine.dialect.name == "postgresql"
        self._lost_is_retried = postgres
        # PostgreSQL's rows in binary format: the same Python values, without parsing integers
        # and strings from text (as the event loop's reads take them, storage.aio).
        self._options: dict[str, Any] = {"binary": True} if postgres else {}

    def _open(self) -> Any:
        # Checked out of the engine's pool and kept: the pool still counts it, so reads and
        # writes together stay within the pool's bound (`?pool_size=N`).
        pooled = self._engine.raw_connection()
        if self._engine.dialect.name == "postgresql":
            pooled.driver_connection.autocommit = True  # type: ignore[union-attr]
        return pooled

    def fetch(self, sql: str, params: Any) -> list[Any]:
        """The rows of one statement. On PostgreSQL a kept connection the server has closed
        (a restart, an idle timeout) is found out here: the kept ones are dropped and the
        statement runs once more on a new connection."""
        for attempt in (1, 2):
            try:
                with self.connection() as conn:
                    rows: list[Any] = conn.execute(sql, params, **self._options).fetchall()
                    return rows
            except self._lost:
                if attempt > 1 or not self._lost_is_retried:
                    raise
                self.drop_idle()
        raise AssertionError("unreachable")

    def drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.invalidate()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        try:
            pooled = self._idle.pop()  # atomic under the GIL
        except IndexError:
            pooled = self._open()
        try:
            yield pooled.driver_connection
        except BaseException:
            pooled.invalidate()  # it may be broken or mid-statement: never reuse it
            raise
        if self._closed or len(self._idle) >= self._keep:
            pooled.close()
        else:
            self._idle.append(pooled)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _tenant(table: sa.Table, bind: Binds) -> list[sa.ColumnElement[bool]]:
    return [table.c.account_id == next(bind), table.c.region == next(bind)]


def _after(
    columns: Sequence[sa.ColumnElement[Any]], after: bool, bind: Binds
) -> list[sa.ColumnElement[bool]]:
    if not after:
        return []
    return [sa.tuple_(*columns) > sa.tuple_(*(next(bind) for _ in columns))]


def _page(rows: list[Any], limit: int, key: Callable[[Any], tuple[str, ...]]) -> Page[Any]:
    """A page of `limit` rows from `limit + 1` read; the extra row says another page follows."""
    if len(rows) > limit:
        del rows[limit:]
        return Page(rows, key(rows[-1]))
    return Page(rows, None)


_POSITION = {s.value: n for n, s in enumerate(Severity)}  # SeverityCounts order


def _halves(counts: Mapping[tuple[str, str], int]) -> tuple[SeverityCounts, SeverityCounts]:
    """{(status, severity): n} -> (compliant counts, non-compliant counts)."""
    good, bad = [0] * 6, [0] * 6
    for (status, severity), n in counts.items():
        (good if status == Status.COMPLIANT.value else bad)[_POSITION[severity]] += n
    return SeverityCounts(tuple(good)), SeverityCounts(tuple(bad))  # type: ignore[arg-type]


# Everything but the tenant, in table order: the ItemRecord and SummaryRecord layouts. Details
# travel as JSON text on both engines.
_ITEM_COLUMNS = [sa.cast(c, sa.Text).label(c.name) if c.name == "details" else c for c in ITEMS.c][
    2:
]
_SUMMARY_COLUMNS = SUMMARY_FIELDS[2:]
_ITEM_ORDER = (ITEMS.c.resource_id, ITEMS.c.compliance_type, ITEMS.c.item_key)
_SUMMARY_ORDER = (SUMMARIES.c.resource_id, SUMMARIES.c.compliance_type)


def _item_key(row: ItemRecord) -> tuple[str, ...]:
    return (row[0], row[1], row[2])


def _summary_key(row: SummaryRecord) -> tuple[str, ...]:
    return (row[0], row[1])


class SqlReads:
    def __init__(self, engine: sa.Engine, keep: int) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self.connections = ReadConnections(engine, keep)
        self._queries: dict[tuple[Any, ...], tuple[str, Callable[[Any], Any]]] = {}

    def _run(
        self, shape: tuple[Any, ...], build: Callable[[], sa.Select[Any]], values: list[Any]
    ) -> list[Any]:
        """Rows of the query of this shape, compiled on first use, for these values (in the
        order the built query took its parameters b0, b1, ...)."""
        found = self._queries.get(shape)
        if found is None:
            if len(self._queries) >= MAX_SHAPES:
                self._queries.clear()
            found = self._queries[shape] = Prepared(build()).sql_for(self._dialect)
        sql, params = found
        bridged = bound_connection()  # inside LoopPostgres.read: on the event loop's connection
        if bridged is not None:
            return bridged.fetch(sql, params(values))
        return self.connections.fetch(sql, params(values))

    def item_records(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ItemRecord]:
        values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
        if after is not None:
            values += after
        if resource_id is not None:
            values.append(resource_id)
        values.append(limit + 1)

        def build() -> sa.Select[Any]:
            bind = binds()
            where = [
                *_tenant(ITEMS, bind),
                *conditions_sql(ITEMS, conditions, bind),
                *_after(_ITEM_ORDER, after is not None, bind),
            ]
            if resource_id is not None:
                where.append(ITEMS.c.resource_id == next(bind))
            return sa.select(*_ITEM_COLUMNS).where(*where).order_by(*_ITEM_ORDER).limit(next(bind))

        shape = ("items", resource_id is None, after is None, shape_of(conditions))
        return _page(self._run(shape, build, values), limit, _item_key)

    def summary_records(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[SummaryRecord]:
        values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
        if after is not None:
            values += after
        values.append(limit + 1)

        def build() -> sa.Select[Any]:
            bind = binds()
            where = [
                *_tenant(SUMMARIES, bind),
                *conditions_sql(SUMMARIES, conditions, bind),
                *_after(_SUMMARY_ORDER, after is not None, bind),
            ]
            return (
                sa.select(*_SUMMARY_COLUMNS)
                .where(*where)
                .order_by(*_SUMMARY_ORDER)
                .limit(next(bind))
            )

        shape = ("summaries", after is None, shape_of(conditions))
        return _page(self._run(shape, build, values), limit, _summary_key)

    @staticmethod
    def counters_cover(conditions: Sequence[Condition]) -> bool:
        """Whether per-type counts under `conditions` come from the counters: true when they
        only name the compliance type, status or overall severity, which the counters are
        keyed by."""
        return all(c.field in COUNTER_COLUMNS for c in conditions)

    def type_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
        fleet: bool = False,
    ) -> Page[TypeSummary]:
        """Per-type resource counts in type order, for types strictly after `after`: from the
        counters, or under filters on other fields (which select resource rows) by counting
        the rows. With `fleet` (and no conditions) the page starts with the FleetTotal row,
        read in the same pass; a page that ends with it has the position ("",), which sorts
        before every type."""
        if self.counters_cover(conditions):
            return self._from_counters(tenant, conditions, after, limit, fleet)
        if fleet:
            raise ValueError("FleetTotal under filters is counted by fleet_total")
        return self._counted(tenant, conditions, after, limit)

    def _from_counters(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
        fleet: bool,
    ) -> Page[TypeSummary]:
        # One index range read: a type has at most one counter row per (status, severity), so
        # this many rows hold the first `limit + 1` types whole (the extra one tells whether
        # another page follows), the fleet's rows before them.
        cells = len(Status) * len(Severity)
        values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
        if after is not None:
            values.append(after)
        values.append(cells * (limit + 2))

        def build() -> sa.Select[Any]:
            bind = binds()
            where = [
                *_tenant(COUNTS, bind),
                *conditions_sql(COUNTS, conditions, bind),
                COUNTS.c.resources > 0,
            ]
            if after is not None:
                where.append(COUNTS.c.compliance_type > next(bind))
            if not fleet:
                where.append(COUNTS.c.compliance_type != FLEET_KEY)
            return (
                sa.select(COUNTS.c.compliance_type, COUNTS.c.status, COUNTS.c.severity,
                          COUNTS.c.resources)
                .where(*where)
                .order_by(COUNTS.c.compliance_type)
                .limit(next(bind))
            )  # fmt: skip

        shape = ("counters", fleet, after is None, shape_of(conditions))
        fleet_counts: dict[tuple[str, str], int] = {}
        counts: dict[str, dict[tuple[str, str], int]] = {}
        for t, st, sev, n in self._run(shape, build, values):
            if t == FLEET_KEY:
                fleet_counts[(st, sev)] = n
                continue
            if t not in counts:
                if len(counts) > limit:
                    break
                counts[t] = {}
            counts[t][(st, sev)] = int(n)
        rows = [TypeSummary(FLEET_TOTAL, *_halves(fleet_counts))] if fleet else []
        room = limit - len(rows)
        names = list(counts)
        rows += [TypeSummary(t, *_halves(counts[t])) for t in names[:room]]
        if len(names) <= room:
            return Page(rows, None)
        return Page(rows, (names[room - 1],) if room > 0 else (FLEET_KEY,))

    def _counted(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
    ) -> Page[TypeSummary]:
        values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
        if after is not None:
            values.append(after)
        # The page's types are chosen by a subquery that takes the same values again.
        values = [*values, *values, limit + 1]

        def build() -> sa.Select[Any]:
            bind = binds()
            ctype, status, severity = (
                SUMMARIES.c.compliance_type,
                SUMMARIES.c.status,
                SUMMARIES.c.overall_severity,
            )

            def where() -> list[sa.ColumnElement[bool]]:
                out = [*_tenant(SUMMARIES, bind), *conditions_sql(SUMMARIES, conditions, bind)]
                if after is not None:
                    out.append(ctype > next(bind))
                return out

            outer = where()
            # The page's types first (keyset, LIMIT), then their counts in one pass.
            types = (
                sa.select(ctype)
                .where(*where())
                .group_by(ctype)
                .order_by(ctype)
                .limit(next(bind))
                .subquery()
            )
            return (
                sa.select(ctype, status, severity, sa.func.count())
                .where(*outer, ctype.in_(sa.select(types.c.compliance_type)))
                .group_by(ctype, status, severity)
                .order_by(ctype)
            )

        shape = ("types", after is None, shape_of(conditions))
        counts: dict[str, dict[tuple[str, str], int]] = {}
        for t, st, sev, n in self._run(shape, build, values):
            counts.setdefault(t, {})[(st, sev)] = n
        page = _page(list(counts), limit, lambda t: (t,))
        return Page([TypeSummary(t, *_halves(counts[t])) for t in page.rows], page.last_key)

    def fleet_total(self, tenant: Tenant, conditions: Sequence[Condition]) -> TypeSummary:
        """Resources counted once over all their selected rows (compliance_type FleetTotal)."""
        values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
        counts: dict[tuple[str, str], int] = {}
        if not conditions:

            def counters() -> sa.Select[Any]:
                bind = binds()
                return sa.select(COUNTS.c.status, COUNTS.c.severity, COUNTS.c.resources).where(
                    *_tenant(COUNTS, bind), COUNTS.c.compliance_type == FLEET_KEY,
                    COUNTS.c.resources > 0,
                )  # fmt: skip

            for st, sev, n in self._run(("fleet-counters",), counters, values):
                counts[(st, sev)] = n
            return TypeSummary(FLEET_TOTAL, *_halves(counts))

        def build() -> sa.Select[Any]:
            bind = binds()
            where = [*_tenant(SUMMARIES, bind), *conditions_sql(SUMMARIES, conditions, bind)]
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
            # Selected and grouped by: written without parameters, so that the two are the
            # same expression to PostgreSQL.
            one: sa.ColumnElement[int] = sa.literal_column("1")
            sev_rank = sa.case(
                (per_resource.c.nc == one, per_resource.c.nc_rank), else_=per_resource.c.any_rank
            )
            return sa.select(per_resource.c.nc, sev_rank, sa.func.count()).group_by(
                per_resource.c.nc, sev_rank
            )

        by_rank = {s.rank: s.value for s in Severity}
        for nc, r, n in self._run(("fleet", shape_of(conditions)), build, values):
            status = Status.NON_COMPLIANT if nc else Status.COMPLIANT
            counts[(status.value, by_rank[r])] = n
        return TypeSummary(FLEET_TOTAL, *_halves(counts))

    def counts(self) -> list[ComplianceCount]:
        query = sa.select(COUNTS).where(COUNTS.c.resources > 0).order_by(*COUNTS.primary_key)
        with self._engine.connect() as conn:
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
        with self._engine.connect() as conn:
            row = conn.execute(first).first()
            while row is not None:
                found.append(Tenant(row[0], row[1]))
                row = conn.execute(first.where(account == row[0], region > row[1])).first()
                if row is None:
                    row = conn.execute(first.where(account > found[-1].account_id)).first()
        return found

    def ping(self) -> None:
        self.connections.fetch("SELECT 1", ())

    def close(self) -> None:
        self.connections.close()
