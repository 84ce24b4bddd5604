"""Emptying the store: every tenant's compliance data, or one tenant's.

Owns which tables hold a tenant's data (items, summary rows, fleet counters, history and the
event outbox) and deleting from them in the caller's write transaction, so a reset is applied
whole or not at all. Server state shared by replicas (the token key) is kept. Must not decide
who may reset.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from complyd.model import Tenant
from complyd.storage.prepared import Prepared
from complyd.storage.schema import (
    compliance_counts,
    compliance_events,
    compliance_history,
    compliance_items,
    resource_summaries,
)

# Puts on PostgreSQL read the summary rows first, so the lock is taken on them first: a put
# already past that read finishes before the reset, and a later one reads the emptied store.
TENANT_TABLES = (
    resource_summaries,
    compliance_items,
    compliance_counts,
    compliance_history,
    compliance_events,
)


def _delete(table: sa.Table, tenant_only: bool) -> Prepared:
    statement = sa.delete(table)
    if tenant_only:
        statement = statement.where(
            table.c.account_id == sa.bindparam("b0"), table.c.region == sa.bindparam("b1")
        )
    return Prepared(statement)


_DELETE_ALL = [_delete(table, False) for table in TENANT_TABLES]
_DELETE_TENANT = [_delete(table, True) for table in TENANT_TABLES]


def clear(dialect: sa.Dialect, cursor: Any, tenant: Tenant | None) -> None:
    """Delete `tenant`'s rows (every tenant's when None) from every table that holds them,
    on the write transaction's driver cursor."""
    if dialect.name == "postgresql":
        # Row locks cannot stop a put that read the summaries before the delete from writing
        # counters that no longer match them; a table lock makes the reset wait for it instead.
        names = ", ".join(table.name for table in TENANT_TABLES)
        cursor.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
    values = [] if tenant is None else [tenant.account_id, tenant.region]
    for statement in _DELETE_ALL if tenant is None else _DELETE_TENANT:
        sql, params = statement.sql_for(dialect)
        cursor.execute(sql, params(values))
