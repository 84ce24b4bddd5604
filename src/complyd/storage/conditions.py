"""Filter conditions as SQL: the same meaning as `complyd.filters.matches`, run by the database.

Owns the mapping from domain fields to columns and the SQL of each operator. Absent values
(NULL) match only NOT_EQUAL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

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


def _column(table: sa.Table, condition: Condition) -> sa.ColumnElement[Any]:
    if condition.field is Field.DETAIL:
        assert condition.detail is not None
        detail: sa.ColumnElement[Any] = table.c.details[condition.detail].as_string()
        return detail
    return table.c[_COLUMNS[condition.field]]


def condition_sql(table: sa.Table, condition: Condition) -> sa.ColumnElement[bool]:
    column = _column(table, condition)
    values = list(condition.values)
    op = condition.operator
    if op is Operator.EQUAL:
        return column.in_(values)
    if op is Operator.NOT_EQUAL:
        return sa.or_(column.is_(None), column.not_in(values))
    if op is Operator.BEGIN_WITH:
        # substr, not LIKE: SQLite's LIKE ignores case and both treat % and _ as wildcards.
        return sa.or_(*(sa.func.substr(column, 1, len(str(v))) == str(v) for v in values))
    if condition.field in (Field.SEVERITY, Field.OVERALL_SEVERITY):
        left: sa.ColumnElement[Any] = severity_rank(column)
        values = [_RANKS[str(v)] for v in values]
    else:
        left = column
    if op is Operator.LESS_THAN:
        return sa.or_(*(left < v for v in values))
    return sa.or_(*(left > v for v in values))


def conditions_sql(
    table: sa.Table, conditions: Sequence[Condition]
) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(table, c) for c in conditions]
