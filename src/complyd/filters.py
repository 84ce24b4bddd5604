"""Filter keys of the three list operations, their parsing, and a pure matcher.

Owns which AWS filter key means which field (spec sections 5-7), how values are read (times as
ISO 8601 or epoch seconds, severities by rank) and the comparison rules, so the store's SQL and
the in-memory matcher agree. Must not perform I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from complyd.errors import InvalidFilter
from complyd.model import MAX_TIME_MS, MIN_TIME_MS, Condition, Field, Filter, Operator, Severity

DETAIL_KEYS = (
    "DocumentName",
    "DocumentVersion",
    "Classification",
    "PatchBaselineId",
    "PatchSeverity",
    "PatchState",
    "PatchGroup",
    "InstalledTime",
)

ITEM_KEYS: Mapping[str, Field] = {
    "ComplianceType": Field.COMPLIANCE_TYPE,
    "Id": Field.ITEM_ID,
    "Title": Field.TITLE,
    "Status": Field.STATUS,
    "Severity": Field.SEVERITY,
    "ExecutionId": Field.EXECUTION_ID,
    "ExecutionType": Field.EXECUTION_TYPE,
    "ExecutionTime": Field.EXECUTION_TIME,
    **{key: Field.DETAIL for key in DETAIL_KEYS},
}

SUMMARY_KEYS: Mapping[str, Field] = {
    "ComplianceType": Field.COMPLIANCE_TYPE,
    "Status": Field.STATUS,
    "OverallSeverity": Field.OVERALL_SEVERITY,
    "InstanceId": Field.RESOURCE_ID,
    "ResourceId": Field.RESOURCE_ID,
    "ResourceType": Field.RESOURCE_TYPE,
    "ExecutionId": Field.EXECUTION_ID,
    "ExecutionType": Field.EXECUTION_TYPE,
    "ExecutionTime": Field.EXECUTION_TIME,
    "PatchGroup": Field.PATCH_GROUP,
}

SEVERITY_FIELDS = (Field.SEVERITY, Field.OVERALL_SEVERITY)
_RANK = {s.value: s.rank for s in Severity}


def parse_time_ms(value: str) -> int:
    """Epoch seconds (`1550408470`, `1550408470.5`) or ISO 8601 (`2019-02-18T16:00:00Z`)."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds) and MIN_TIME_MS <= seconds * 1000 <= MAX_TIME_MS:
            return round(seconds * 1000)
        raise InvalidFilter(f"'{value}' is not a time between year 1 and year 9999.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidFilter(
            f"'{value}' is not a time: use ISO 8601 such as 2019-02-18T16:00:00Z or epoch seconds."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)  # datetime itself keeps to years 1..9999


def parse_filters(filters: Sequence[Filter], keys: Mapping[str, Field]) -> list[Condition]:
    conditions = []
    for f in filters:
        field = keys.get(f.key)
        if field is None:
            raise InvalidFilter(
                f"The filter key '{f.key}' is not valid here. Valid keys: {', '.join(keys)}."
            )
        values: tuple[str | int, ...] = f.values
        if field is Field.EXECUTION_TIME:
            values = tuple(parse_time_ms(v) for v in f.values)
        elif field in SEVERITY_FIELDS and f.operator in (Operator.LESS_THAN, Operator.GREATER_THAN):
            bad = [v for v in f.values if v not in _RANK]
            if bad:
                raise InvalidFilter(
                    f"'{bad[0]}' is not a severity; {f.operator.value} on {f.key} compares "
                    f"severities: {', '.join(_RANK)}."
                )
        detail = f.key if field is Field.DETAIL else None
        conditions.append(Condition(field, f.operator, values, detail))
    return conditions


def matches(condition: Condition, value: str | int | None) -> bool:
    """The meaning of a condition for one value; None is an absent attribute."""
    op = condition.operator
    if op is Operator.NOT_EQUAL:
        return value is None or value not in condition.values
    if value is None:
        return False
    if op is Operator.EQUAL:
        return value in condition.values
    if op is Operator.BEGIN_WITH:
        return any(str(value).startswith(str(v)) for v in condition.values)
    if condition.field in SEVERITY_FIELDS:
        left, rights = _RANK.get(str(value), -1), [_RANK[str(v)] for v in condition.values]
        return any(left < r if op is Operator.LESS_THAN else left > r for r in rights)
    if isinstance(value, int):
        ints = [int(v) for v in condition.values]
        return any(value < r if op is Operator.LESS_THAN else value > r for r in ints)
    strs = [str(v) for v in condition.values]
    return any(str(value) < r if op is Operator.LESS_THAN else str(value) > r for r in strs)
