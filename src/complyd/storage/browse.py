"""The dashboard's sorted pages of resource summaries: either index order, either direction.

Owns the keyset pages a person browses: sorted by (resource id, type) on the primary key or by
(type, resource id) on `ix_resource_summaries_type`, ascending or descending, a page after or
before a row, so every page costs what the first does. Other orders would need an index each
and are not offered. Must not contain compliance rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from complyd.model import BrowsePage, Condition, RowKey, Tenant
from complyd.storage.conditions import binds, conditions_sql, conditions_values
from complyd.storage.rows import SummaryRow, summary_from_row
from complyd.storage.schema import resource_summaries

SUMMARIES = resource_summaries
# Each sort's columns, most significant first; both have an index after the tenant columns.
SORTS: dict[str, tuple[sa.Column[Any], sa.Column[Any]]] = {
    "resource": (SUMMARIES.c.resource_id, SUMMARIES.c.compliance_type),
    "type": (SUMMARIES.c.compliance_type, SUMMARIES.c.resource_id),
}


def summaries_page(
    engine: sa.Engine,
    tenant: Tenant,
    conditions: Sequence[Condition],
    sort: str,
    descending: bool,
    after: RowKey | None,
    before: RowKey | None,
    limit: int,
) -> BrowsePage:
    """The page following `after` (or the first page), or with `before`, the page preceding it."""
    columns = SORTS[sort]
    backwards = before is not None
    reading_down = descending != backwards  # the direction rows are read in
    bind = binds()
    values: list[Any] = [tenant.account_id, tenant.region, *conditions_values(conditions)]
    where = [
        SUMMARIES.c.account_id == next(bind),
        SUMMARIES.c.region == next(bind),
        *conditions_sql(SUMMARIES, conditions, bind),
    ]
    edge = before if backwards else after
    if edge is not None:
        values += edge if sort == "resource" else (edge[1], edge[0])
        row, key = sa.tuple_(*columns), sa.tuple_(next(bind), next(bind))
        where.append(row < key if reading_down else row > key)
    order = [c.desc() if reading_down else c.asc() for c in columns]
    query = sa.select(SUMMARIES).where(*where).order_by(*order).limit(limit + 1)
    params = {f"b{n}": v for n, v in enumerate(values)}
    with engine.connect() as conn:
        found = [SummaryRow(*r) for r in conn.execute(query, params)]
    more = len(found) > limit
    rows = [summary_from_row(r) for r in found[:limit]]
    if backwards:
        rows.reverse()
        return BrowsePage(rows, more_before=more, more_after=True)
    return BrowsePage(rows, more_before=after is not None, more_after=more)
