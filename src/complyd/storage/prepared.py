"""Statements written once in SQLAlchemy Core, compiled once per dialect, run on the driver.

The put path runs a handful of fixed statements thousands of times a second; building and
compiling Core expressions for each call cost more than the database work. The SQL still comes
from Core (so it is the same for SQLite and PostgreSQL); only the per-call overhead is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

Params = Callable[[Mapping[str, Any]], Sequence[Any] | Mapping[str, Any]]


def _named(defaults: Mapping[str, Any]) -> Params:
    def params(values: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**defaults, **values} if defaults else values

    return params


def _positional(order: tuple[str, ...], defaults: Mapping[str, Any]) -> Params:
    if not defaults:
        return lambda values: tuple(values[n] for n in order)
    return lambda values: tuple(values[n] if n in values else defaults[n] for n in order)


class Prepared:
    """One statement; its SQL is compiled on first use for each dialect."""

    def __init__(self, statement: sa.ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, Params]] = {}

    def _for(self, dialect: sa.Dialect) -> tuple[str, Params]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = cast(SQLCompiler, self._statement.compile(dialect=dialect))
            names = compiled.positiontup
            # Values fixed in the statement itself (constants, JSON paths) travel as binds too.
            defaults = {k: v for k, v in compiled.params.items() if v is not None}
            params = _named(defaults)
            if compiled.positional and names is not None:
                params = _positional(tuple(names), defaults)
            found = self._compiled[dialect.name] = (str(compiled), params)
        return found

    def execute(self, conn: sa.Connection, cursor: Any, values: Mapping[str, Any]) -> Any:
        sql, params = self._for(conn.dialect)
        cursor.execute(sql, params(values))
        return cursor

    def execute_many(
        self, conn: sa.Connection, cursor: Any, rows: Iterable[Mapping[str, Any]]
    ) -> None:
        sql, params = self._for(conn.dialect)
        cursor.executemany(sql, [params(r) for r in rows])
