"""Per-operation request decoding into domain values and result encoding into AWS JSON shapes.

Owns the mapping between AWS member names and `complyd.model`; validation is delegated to
`shapes`. Must not apply compliance rules (those live in the service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from complyd.errors import InvalidFilter
from complyd.model import (
    MANAGED_INSTANCE,
    NO_DETAILS,
    ExecutionSummary,
    Filter,
    ItemEntry,
    ItemRecord,
    Operator,
    PutRequest,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
    StoredItem,
    SummaryRecord,
    TypeSummary,
    UploadType,
)
from complyd.wire.model import input_shape
from complyd.wire.shapes import validate

DEFAULT_MAX_RESULTS = 50


@dataclass(frozen=True, slots=True)
class ListRequest:
    filters: tuple[Filter, ...]
    max_results: int
    next_token: str | None
    resource_ids: tuple[str, ...] | None = None
    resource_types: tuple[str, ...] | None = None

    def fingerprint(self) -> bytes:
        """What a token is bound to: everything that selects rows, but not the page size."""
        return orjson.dumps(
            [
                [[f.key, list(f.values), f.operator.value] for f in self.filters],
                list(self.resource_ids) if self.resource_ids is not None else None,
                list(self.resource_types) if self.resource_types is not None else None,
            ]
        )


def seconds_to_ms(value: float) -> int:
    return round(value * 1000)


def ms_to_seconds(value: int) -> float:
    return value / 1000


def _execution(raw: dict[str, Any]) -> ExecutionSummary:
    # AWS drops empty ExecutionId / ExecutionType rather than storing "".
    return ExecutionSummary(
        execution_time_ms=seconds_to_ms(raw["ExecutionTime"]),
        execution_id=raw.get("ExecutionId") or None,
        execution_type=raw.get("ExecutionType") or None,
    )


# Plain lookups: calling an Enum class costs several times as much, 20 times per 10-item put.
_SEVERITIES = {s.value: s for s in Severity}
_STATUSES = {s.value: s for s in Status}


def decode_put(body: dict[str, Any]) -> PutRequest:
    validate(input_shape("PutComplianceItems"), body)
    # Positional: keyword arguments cost more than the tuple itself, 10,000 times per put. The
    # body was parsed for this request alone: its Details maps are the item's own.
    items = [
        ItemEntry(
            _SEVERITIES[raw["Severity"]],
            _STATUSES[raw["Status"]],
            raw.get("Id"),
            raw.get("Title"),
            raw.get("Details") or NO_DETAILS,
        )
        for raw in body["Items"]
    ]
    return PutRequest(
        resource_id=body["ResourceId"],
        resource_type=body["ResourceType"],
        compliance_type=body["ComplianceType"],
        execution=_execution(body["ExecutionSummary"]),
        items=items,
        items_size=len(orjson.dumps(body["Items"])),
        item_content_hash=body.get("ItemContentHash"),
        upload_type=UploadType(body.get("UploadType") or "COMPLETE"),
    )


def decode_list(operation: str, body: dict[str, Any]) -> ListRequest:
    validate(input_shape(operation), body)
    filters = []
    for i, raw in enumerate(body.get("Filters") or [], start=1):
        if not raw.get("Key"):
            raise InvalidFilter(f"Filter {i} has no Key.")
        if not raw.get("Values"):
            raise InvalidFilter(f"Filter {i} ({raw['Key']}) has no Values.")
        filters.append(
            Filter(
                key=raw["Key"],
                values=tuple(raw["Values"]),
                operator=Operator(raw.get("Type") or "EQUAL"),
            )
        )
    ids = body.get("ResourceIds")
    types = body.get("ResourceTypes")
    return ListRequest(
        filters=tuple(filters),
        max_results=body.get("MaxResults") or DEFAULT_MAX_RESULTS,
        next_token=body.get("NextToken"),
        resource_ids=tuple(ids) if ids is not None else None,
        resource_types=tuple(types) if types is not None else None,
    )


def encode_execution(execution: ExecutionSummary) -> dict[str, Any]:
    out: dict[str, Any] = {"ExecutionTime": ms_to_seconds(execution.execution_time_ms)}
    if execution.execution_id:
        out["ExecutionId"] = execution.execution_id
    if execution.execution_type:
        out["ExecutionType"] = execution.execution_type
    return out


def encode_item(item: StoredItem, resource_type: str) -> dict[str, Any]:
    entry = item.entry
    out: dict[str, Any] = {
        "ComplianceType": item.compliance_type,
        "ResourceType": resource_type,
        "ResourceId": item.resource_id,
    }
    if entry.id is not None:
        out["Id"] = entry.id
    if entry.title is not None:
        out["Title"] = entry.title
    out["Status"] = entry.status.value
    out["Severity"] = entry.severity.value
    out["ExecutionSummary"] = encode_execution(item.execution)
    out["Details"] = dict(entry.details)
    return out


# SeveritySummary member names, in Severity order (the order of SeverityCounts.counts).
COUNT_NAMES = tuple(s.count_name for s in Severity)


def encode_severity_counts(counts: SeverityCounts) -> dict[str, int]:
    return dict(zip(COUNT_NAMES, counts.counts, strict=True))


def encode_halves(compliant: SeverityCounts, non_compliant: SeverityCounts) -> dict[str, Any]:
    return {
        "CompliantSummary": {
            "CompliantCount": compliant.total,
            "SeveritySummary": encode_severity_counts(compliant),
        },
        "NonCompliantSummary": {
            "NonCompliantCount": non_compliant.total,
            "SeveritySummary": encode_severity_counts(non_compliant),
        },
    }


def encode_resource_summary(row: ResourceSummary) -> dict[str, Any]:
    return {
        "ComplianceType": row.compliance_type,
        "ResourceType": row.resource_type,
        "ResourceId": row.resource_id,
        "Status": row.status.value,
        "OverallSeverity": row.overall_severity.value,
        "ExecutionSummary": encode_execution(row.execution),
        **encode_halves(row.compliant, row.non_compliant),
    }


def encode_type_summary(row: TypeSummary) -> dict[str, Any]:
    return {
        "ComplianceType": row.compliance_type,
        **encode_halves(row.compliant, row.non_compliant),
    }


# -- list pages from the store's records, straight to the wire -------------------------------
# The same answers as the encoders above give for the domain objects the records stand for
# (tests/unit compare the two), with no object in between.


def encode_item_records(rows: Sequence[ItemRecord]) -> list[dict[str, Any]]:
    out = []
    for rid, ctype, _key, item_id, title, status, severity, details, ms, eid, etype, _ in rows:
        item: dict[str, Any] = {
            "ComplianceType": ctype,
            "ResourceType": MANAGED_INSTANCE,
            "ResourceId": rid,
        }
        if item_id is not None:
            item["Id"] = item_id
        if title is not None:
            item["Title"] = title
        item["Status"] = status
        item["Severity"] = severity
        execution: dict[str, Any] = {"ExecutionTime": ms / 1000}
        if eid:
            execution["ExecutionId"] = eid
        if etype:
            execution["ExecutionType"] = etype
        item["ExecutionSummary"] = execution
        item["Details"] = orjson.Fragment(details)
        out.append(item)
    return out


def encode_summary_records(rows: Sequence[SummaryRecord]) -> list[dict[str, Any]]:
    # Columns 5-10 count compliant items, 11-16 non-compliant ones, each in Severity order
    # (COUNT_NAMES); written out, as this runs for every row of every page.
    out = []
    for r in rows:
        execution: dict[str, Any] = {"ExecutionTime": r[17] / 1000}
        if r[18]:
            execution["ExecutionId"] = r[18]
        if r[19]:
            execution["ExecutionType"] = r[19]
        out.append(
            {
                "ComplianceType": r[1],
                "ResourceType": r[2],
                "ResourceId": r[0],
                "Status": r[3],
                "OverallSeverity": r[4],
                "ExecutionSummary": execution,
                "CompliantSummary": {
                    "CompliantCount": r[5] + r[6] + r[7] + r[8] + r[9] + r[10],
                    "SeveritySummary": {
                        "CriticalCount": r[5],
                        "HighCount": r[6],
                        "MediumCount": r[7],
                        "LowCount": r[8],
                        "InformationalCount": r[9],
                        "UnspecifiedCount": r[10],
                    },
                },
                "NonCompliantSummary": {
                    "NonCompliantCount": r[11] + r[12] + r[13] + r[14] + r[15] + r[16],
                    "SeveritySummary": {
                        "CriticalCount": r[11],
                        "HighCount": r[12],
                        "MediumCount": r[13],
                        "LowCount": r[14],
                        "InformationalCount": r[15],
                        "UnspecifiedCount": r[16],
                    },
                },
            }
        )
    return out


def page_body(
    member: str, rows: Sequence[dict[str, Any]], next_token: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {member: list(rows)}
    if next_token is not None:
        body["NextToken"] = next_token
    return body
