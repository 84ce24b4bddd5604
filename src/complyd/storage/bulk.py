"""Bulk inserts of many rows into one table whose leading columns hold the same values in
every row: COPY on PostgreSQL, multi-row INSERTs on SQLite.

A put may carry 10,000 items. On PostgreSQL, COPY ... FROM STDIN sends them as one stream
and takes about half the time of a pipelined executemany of INSERTs; for a few rows the
prepared INSERT is as quick, so small puts keep it. On SQLite, one INSERT of many rows, with
the shared values bound once per statement, takes about half the time of an executemany of
one-row INSERTs: the driver binds each row's other values only and steps one statement.
Must not know the tables' meaning.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from complyd.storage.aio import BridgedCursor
from complyd.storage.prepared import Prepared

COPY_FROM = 64  # rows; below this the prepared INSERT costs no more
# SQLite: up to this many rows go in one statement of exactly that many rows; larger inserts
# are cut into statements of a power of two rows each, so a connection's statement cache
# holds every statement text it meets (sqlite3 keeps 128 per connection).
EXACT_ROWS = 32
MAX_ROWS = 512


class BulkInsert:
    """Inserts rows into `table`, each given as `prefix` (the same for every row) followed by
    the row's own values, in the table's column order; the caller promises that the first
    `shared` columns (the prefix's and maybe more) hold the same values in every row."""

    def __init__(self, table: sa.Table, shared: int) -> None:
        columns = list(table.c)
        self._shared = shared
        self._per_row = len(columns) - shared
        values: dict[str, Any] = {c.name: sa.bindparam(f"b{n}") for n, c in enumerate(columns)}
        self._insert = Prepared(sa.insert(table).values(values))
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        )
        names = ", ".join(f'"{c.name}"' for c in columns)
        self._sqlite_head = f'INSERT INTO "{table.name}" ({names}) VALUES '
        # ?1 ... ?shared are bound once per statement; each bare ? takes the next number.
        self._sqlite_row = (
            "(" + ", ".join([f"?{n + 1}" for n in range(shared)] + ["?"] * self._per_row) + ")"
        )
        self._sqlite: dict[int, str] = {}

    def execute(
        self,
        dialect: sa.Dialect,
        cursor: Any,
        prefix: Sequence[Any],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        if not rows:
            return
        if dialect.name == "sqlite":
            self._execute_sqlite(cursor, prefix, rows)
            return
        whole = [(*prefix, *r) for r in rows]
        if dialect.name != "postgresql" or len(rows) < COPY_FROM:
            statement, params = self._insert.sql_for(dialect)
            cursor.executemany(statement, [params(r) for r in whole])
            return
        if isinstance(cursor, BridgedCursor):
            cursor.copy_rows(self._copy, whole)  # the whole stream in one wait on the loop
            return
        with cursor.copy(self._copy) as copy:
            for row in whole:
                copy.write_row(row)

    def _execute_sqlite(
        self, cursor: Any, prefix: Sequence[Any], rows: Sequence[Sequence[Any]]
    ) -> None:
        own = self._shared - len(prefix)  # leading values of each row that are shared too
        shared_values = [*prefix, *rows[0][:own]]
        # SQLite builds before 3.32 allow 999 bound values per statement; later ones 32,766.
        limit = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        most = max(1, min(MAX_ROWS, (limit - self._shared) // self._per_row))
        start, total = 0, len(rows)
        chain = itertools.chain.from_iterable
        while start < total:
            size = min(total - start, most)
            if size > EXACT_ROWS:
                size = 1 << (size.bit_length() - 1)  # the largest power of two within it
            chunk = rows[start : start + size]
            params = [*shared_values, *chain([r[own:] for r in chunk] if own else chunk)]
            cursor.execute(self._sqlite_statement(size), params)
            start += size

    def _sqlite_statement(self, rows: int) -> str:
        statement = self._sqlite.get(rows)
        if statement is None:
            statement = self._sqlite[rows] = self._sqlite_head + ", ".join(
                [self._sqlite_row] * rows
            )
        return statement
