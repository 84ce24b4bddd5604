"""Filter conditions as SQL: the same meaning as `complyd.filters.matches`, run by the database.

Owns the mapping from domain fields to columns and the SQL of each operator. Absent values
(NULL) match only NOT_EQUAL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def _column(table: sa.Table, condition: Condition) -> sa.ColumnElement[Any]:
    if condition.field is Field.DETAIL:
        assert condition.detail is not None
        return DetailValue(table.c.details, condition.detail)
    return table.c[_COLUMNS[condition.field]]


class Binds:
    """The bind parameters of one query, named in the order the query asks for them, so
    queries of the same shape compile to the same SQL whatever their values."""

    def __init__(self, **fixed: Any) -> None:
        self.values: dict[str, Any] = dict(fixed)
        self._n = 0

    def __call__(self, value: Any) -> sa.BindParameter[Any]:
        name = f"v{self._n}"
        self._n += 1
        self.values[name] = value
        return sa.bindparam(name)


def shape_of(conditions: Sequence[Condition]) -> tuple[Any, ...]:
    """What makes two condition lists compile to the same SQL."""
    return tuple((c.field, c.operator, len(c.values), c.detail) for c in conditions)


def condition_sql(table: sa.Table, condition: Condition, bind: Binds) -> sa.ColumnElement[bool]:
    column = _column(table, condition)
    values = list(condition.values)
    op = condition.operator
    if op is Operator.EQUAL:
        return column.in_([bind(v) for v in values])
    if op is Operator.NOT_EQUAL:
        return sa.or_(column.is_(None), column.not_in([bind(v) for v in values]))
    if op is Operator.BEGIN_WITH:
        # substr, not LIKE: SQLite's LIKE ignores case and both treat % and _ as wildcards.
        return sa.or_(
            *(sa.func.substr(column, 1, bind(len(str(v)))) == bind(str(v)) for v in values)
        )
    if condition.field in (Field.SEVERITY, Field.OVERALL_SEVERITY):
        left: sa.ColumnElement[Any] = severity_rank(column)
        values = [_RANKS[str(v)] for v in values]
    else:
        left = column
    if op is Operator.LESS_THAN:
        return sa.or_(*(left < bind(v) for v in values))
    return sa.or_(*(left > bind(v) for v in values))


def conditions_sql(
    table: sa.Table, conditions: Sequence[Condition], bind: Binds
) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(table, c, bind) for c in conditions]
