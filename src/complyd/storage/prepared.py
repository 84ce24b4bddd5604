"""Statements written once in SQLAlchemy Core, compiled once per dialect, run on the driver.

The put path runs a handful of fixed statements thousands of times a second; building and
compiling Core expressions for each call cost more than the database work. The SQL still comes
from Core (so it is the same for SQLite and PostgreSQL); only the per-call overhead is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

Params = Callable[[Mapping[str, Any]], Sequence[Any] | Mapping[str, Any]]
OrderedParams = Callable[[Sequence[Any]], Sequence[Any] | Mapping[str, Any]]
# Parameters named b0, b1, ... take a query's values in order (see storage.conditions.binds).
_ORDERED = re.compile(r"b(\d+)")


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
        self._ordered: dict[str, tuple[str, OrderedParams]] = {}

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

    def execute(self, dialect: sa.Dialect, cursor: Any, values: Mapping[str, Any]) -> Any:
        sql, params = self._for(dialect)
        cursor.execute(sql, params(values))
        return cursor

    def sql_for(self, dialect: sa.Dialect) -> tuple[str, OrderedParams]:
        """The SQL for `dialect` with positional placeholders, and a function from the values
        of the parameters b0, b1, ... (a list, in that order) to the driver's parameters."""
        found = self._ordered.get(dialect.name)
        if found is None:
            found = self._ordered[dialect.name] = _ordered(self._statement, dialect)
        return found


def _positional_dialect(dialect: sa.Dialect) -> sa.Dialect:
    """`dialect`, or the same dialect with `format` placeholders (%s) when it names them."""
    if dialect.positional:
        return dialect
    return type(dialect)(paramstyle="format")  # type: ignore[call-arg]


def _ordered(statement: sa.ClauseElement, dialect: sa.Dialect) -> tuple[str, OrderedParams]:
    compiled = cast(SQLCompiler, statement.compile(dialect=_positional_dialect(dialect)))
    defaults = {k: v for k, v in compiled.params.items() if not _ORDERED.fullmatch(k)}
    names = compiled.positiontup or []
    slots = [
        (int(m.group(1)), None) if (m := _ORDERED.fullmatch(n)) else (-1, defaults[n])
        for n in names
    ]
    sql = str(compiled)
    if defaults:
        return sql, lambda values: [v if i < 0 else values[i] for i, v in slots]
    order = [i for i, _ in slots]
    if order == list(range(len(order))):
        return sql, lambda values: values
    return sql, lambda values: [values[i] for i in order]
