"""Filter conditions as SQL: the same meaning as `complyd.filters.matches`, run by the database.

Owns the mapping from domain fields to columns, the SQL of each operator, and the bind values
each condition takes, in the order its SQL takes them: a query's SQL depends only on its shape
(`shape_of`), so it is compiled once and each call computes only its values. Absent values
(NULL) match only NOT_EQUAL.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from complyd.model import Condition, Field, Operator, Severity

_COLUMNS = {
    Field.COMPLIANCE_TYPE: "compliance_type",
    Field.RESOURCE_ID: "resource_id",
    Field.RESOURCE_TYPE: "resource_type",
    Field.ITEM_ID: "item_id",
    Field.TITLE: "title",
    Field.STATUS: "status",
    Field.SEVERITY: "severity",
    Field.OVERALL_SEVERITY: "overall_severity",
    Field.EXECUTION_ID: "execution_id",
    Field.EXECUTION_TYPE: "execution_type",
    Field.EXECUTION_TIME: "execution_time_ms",
    Field.PATCH_GROUP: "patch_group",
}
_RANKS = {s.value: s.rank for s in Severity}


def severity_rank(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return sa.case(_RANKS, value=column, else_=-1)


class DetailValue(sa.sql.expression.ColumnElement[str]):
    """`details[key]` as text; the key (one of a fixed set of names) is written into the SQL,
    so a statement compiled once serves every call."""

    inherit_cache = True
    type = sa.Text()

    def __init__(self, column: sa.ColumnElement[Any], key: str) -> None:
        if not _DETAIL_KEY.fullmatch(key):
            raise ValueError(f"unexpected Details key {key!r}")
        self.column = column
        self.key = key


_DETAIL_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")


@compiles(DetailValue, "sqlite")
def _detail_sqlite(element: DetailValue, compiler: Any, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.column, **kw)}, '$.\"{element.key}\"')"


@compiles(DetailValue, "postgresql")
def _detail_postgresql(element: DetailValue, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.column, **kw)} ->> '{element.key}')"


# The fleet counters name a row's overall severity `severity`; they hold no other field but
# the compliance type and status.
COUNTER_COLUMNS = {
    Field.COMPLIANCE_TYPE: "compliance_type",
    Field.STATUS: "status",
    Field.OVERALL_SEVERITY: "severity",
}


def _column(table: sa.Table, condition: Condition) -> sa.ColumnElement[Any]:
    if condition.field is Field.DETAIL:
        assert condition.detail is not None
        return DetailValue(table.c.details, condition.detail)
    if table.name == "compliance_counts":
        return table.c[COUNTER_COLUMNS[condition.field]]
    return table.c[_COLUMNS[condition.field]]


def shape_of(conditions: Sequence[Condition]) -> tuple[Any, ...]:
    """What makes two condition lists compile to the same SQL."""
    return tuple((c.field, c.operator, len(c.values), c.detail) for c in conditions)


def condition_values(condition: Condition) -> list[Any]:
    """The bind values of `condition_sql(condition)`, in the order its SQL takes them."""
    op = condition.operator
    if op is Operator.EQUAL or op is Operator.NOT_EQUAL:
        return list(condition.values)
    if op is Operator.BEGIN_WITH:
        out: list[Any] = []
        for v in condition.values:
            text = str(v)
            out += (len(text), text)
        return out
    if condition.field in (Field.SEVERITY, Field.OVERALL_SEVERITY):
        return [_RANKS[str(v)] for v in condition.values]
    return list(condition.values)


Binds = Iterator[sa.BindParameter[Any]]


def binds() -> Binds:
    """Bind parameters named b0, b1, ... in the order a query takes its values."""
    return (sa.bindparam(f"b{n}") for n in itertools.count())


def condition_sql(table: sa.Table, condition: Condition, bind: Binds) -> sa.ColumnElement[bool]:
    """The condition as SQL, taking one parameter from `bind` per value of
    `condition_values(condition)`, in that order (so the SQL of a shape is compiled once and
    every call only computes its values)."""
    column = _column(table, condition)
    n = len(condition.values)
    op = condition.operator
    if op is Operator.EQUAL:
        return column.in_([next(bind) for _ in range(n)])
    if op is Operator.NOT_EQUAL:
        return sa.or_(column.is_(None), column.not_in([next(bind) for _ in range(n)]))
    if op is Operator.BEGIN_WITH:
        # substr, not LIKE: SQLite's LIKE ignores case and both treat % and _ as wildcards.
        # Each value takes two parameters: its length, then the prefix itself.
        return sa.or_(*(sa.func.substr(column, 1, next(bind)) == next(bind) for _ in range(n)))
    left: sa.ColumnElement[Any] = column
    if condition.field in (Field.SEVERITY, Field.OVERALL_SEVERITY):
        left = severity_rank(column)
    if op is Operator.LESS_THAN:
        return sa.or_(*(left < next(bind) for _ in range(n)))
    return sa.or_(*(left > next(bind) for _ in range(n)))


def conditions_sql(
    table: sa.Table, conditions: Sequence[Condition], bind: Binds
) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(table, c, bind) for c in conditions]


def conditions_values(conditions: Sequence[Condition]) -> list[Any]:
    return [v for c in conditions for v in condition_values(c)]
