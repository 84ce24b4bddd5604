"""Bulk inserts of many rows into one table: COPY on PostgreSQL, executemany elsewhere.

A put may carry 10,000 items. On PostgreSQL, COPY ... FROM STDIN sends them as one stream
and takes about half the time of a pipelined executemany of INSERTs; for a few rows the
prepared INSERT is as quick, so small puts keep it. Must not know the tables' meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from complyd.storage.aio import BridgedCursor
from complyd.storage.prepared import Prepared

COPY_FROM = 64  # rows; below this the prepared INSERT costs no more


class BulkInsert:
    """Inserts rows (sequences in the table's column order) into `table` on the driver cursor."""

    def __init__(self, table: sa.Table) -> None:
        columns = list(table.c)
        values: dict[str, Any] = {c.name: sa.bindparam(f"b{n}") for n, c in enumerate(columns)}
        self._insert = Prepared(sa.insert(table).values(values))
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        )

    def execute(self, dialect: sa.Dialect, cursor: Any, rows: Sequence[Sequence[Any]]) -> None:
        if dialect.name != "postgresql" or len(rows) < COPY_FROM:
            statement, params = self._insert.sql_for(dialect)
            cursor.executemany(statement, [params(r) for r in rows])
            return
        if isinstance(cursor, BridgedCursor):
            cursor.copy_rows(self._copy, rows)  # the whole stream in one wait on the loop
            return
        with cursor.copy(self._copy) as copy:
            for row in rows:
                copy.write_row(row)
