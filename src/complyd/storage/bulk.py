"""Bulk inserts of many rows into one table: COPY on PostgreSQL, executemany elsewhere.

A put may carry 10,000 items. On PostgreSQL, COPY ... FROM STDIN sends them as one stream
and takes about half the time of a pipelined executemany of INSERTs; for a few rows the
prepared INSERT is as quick, so small puts keep it. Must not know the tables' meaning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from complyd.storage.prepared import Prepared

COPY_FROM = 64  # rows; below this the prepared INSERT costs no more


class BulkInsert:
    """Inserts rows (dicts keyed by column name) into `table` on the driver cursor."""

    def __init__(self, table: sa.Table) -> None:
        self._columns = tuple(table.c.keys())
        self._insert = Prepared(sa.insert(table))
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, self._columns))
        )

    def execute(self, conn: sa.Connection, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        if conn.dialect.name != "postgresql" or len(rows) < COPY_FROM:
            self._insert.execute_many(conn, cursor, rows)
            return
        columns = self._columns
        with cursor.copy(self._copy) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
