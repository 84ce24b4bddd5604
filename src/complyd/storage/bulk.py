"""Bulk inserts of many rows into one table whose leading columns hold the same values in
every row: multi-row INSERTs, with the shared values bound once per statement, and COPY for
many rows on PostgreSQL.

A put may carry 10,000 items. On SQLite, one INSERT of many rows takes about half the time of
an executemany of one-row INSERTs: the driver binds each row's other values only and steps one
statement. On PostgreSQL, a put's ten rows in one INSERT are one message and one result where
an executemany sends and answers each row (half the system calls of a put, a sixth fewer
instructions); the statements use `$n` placeholders on a raw cursor, since psycopg would parse
the `%s` of a statement of more than 50 values on every execution. From COPY_FROM rows,
COPY ... FROM STDIN sends them as one stream, which PostgreSQL takes in faster than INSERTs.
Must not know the tables' meaning.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from complyd.storage.aio import BridgedCursor, raw_cursor
from complyd.storage.prepared import Prepared

COPY_FROM = 64  # rows (PostgreSQL); below this, multi-row INSERTs
# Up to this many rows go in one statement of exactly that many rows; larger inserts are cut
# into statements of a power of two rows each, so a connection's statement cache holds every
# statement text it meets (sqlite3 keeps 128 per connection, psycopg prepares 100).
EXACT_ROWS = 32
MAX_ROWS = 512
POSTGRES_BOUND_VALUES = 65_535  # the protocol's limit per statement


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
        # ?1 ... ?shared are bound once per statement; each bare ? takes the next number.
        row = "(" + ", ".join([f"?{n + 1}" for n in range(shared)] + ["?"] * self._per_row) + ")"
        head = f'INSERT INTO "{table.name}" ({names}) VALUES '
        self._sqlite = _Statements(lambda rows: head + ", ".join([row] * rows))
        self._postgres: _Statements | None = None

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
            # SQLite builds before 3.32 allow 999 bound values per statement; later ones 32,766.
            limit = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._multi_row(cursor, self._sqlite, limit, prefix, rows)
            return
        if dialect.name != "postgresql":
            statement, params = self._insert.sql_for(dialect)
            cursor.executemany(statement, [params((*prefix, *r)) for r in rows])
            return
        if len(rows) < COPY_FROM:
            statements = self._postgres or self._postgres_statements(dialect)
            self._multi_row(raw_cursor(cursor), statements, POSTGRES_BOUND_VALUES, prefix, rows)
            return
        whole = [(*prefix, *r) for r in rows]
        if isinstance(cursor, BridgedCursor):
            cursor.copy_rows(self._copy, whole)  # the whole stream in one wait on the loop
            return
        with cursor.copy(self._copy) as copy:
            for row in whole:
                copy.write_row(row)

    def _multi_row(
        self,
        cursor: Any,
        statements: _Statements,
        bound_values: int,
        prefix: Sequence[Any],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        own = self._shared - len(prefix)  # leading values of each row that are shared too
        shared_values = [*prefix, *rows[0][:own]]
        most = max(1, min(MAX_ROWS, (bound_values - self._shared) // self._per_row))
        chain = itertools.chain.from_iterable
        start, total = 0, len(rows)
        while start < total:
            size = min(total - start, most)
            if size > EXACT_ROWS:
                size = 1 << (size.bit_length() - 1)  # the largest power of two within it
            chunk = rows[start : start + size]
            params = [*shared_values, *chain([r[own:] for r in chunk] if own else chunk)]
            cursor.execute(statements.rows(size), params)
            start += size

    def _postgres_statements(self, dialect: sa.Dialect) -> _Statements:
        """Statements in `$n` placeholders (a raw cursor's), with the casts of the dialect's
        own INSERT: $1 ... $shared in every row, then each row's own values numbered on."""
        insert, _ = self._insert.sql_for(dialect)
        head, _, row = insert.partition(" VALUES ")
        casts = row.removeprefix("(").removesuffix(")").split(", ")
        if len(casts) != self._shared + self._per_row or any(c.count("%s") != 1 for c in casts):
            raise ValueError(f"unexpected INSERT from the dialect: {insert}")

        shared, per_row = self._shared, self._per_row

        def group(r: int) -> str:
            """Row r's VALUES group: the shared $1 ... $shared, then its own numbers."""
            first = shared + r * per_row  # the values bound before this row's own
            numbers = [*range(1, shared + 1), *range(first + 1, first + per_row + 1)]
            placed = [c.replace("%s", f"${n}") for c, n in zip(casts, numbers, strict=True)]
            return "(" + ", ".join(placed) + ")"

        def values(rows: int) -> str:
            return head + " VALUES " + ", ".join(group(r) for r in range(rows))

        self._postgres = _Statements(values)
        return self._postgres


class _Statements:
    """The statement text for each number of rows, built once."""

    def __init__(self, build: Callable[[int], str]) -> None:
        self._build = build
        self._texts: dict[int, str] = {}

    def rows(self, n: int) -> str:
        text = self._texts.get(n)
        if text is None:
            text = self._texts[n] = self._build(n)
        return text
