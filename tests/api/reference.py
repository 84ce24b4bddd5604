"""An independent reference for what the API should answer, written from the spec.

Owns: item builders, thin boto3 call wrappers that walk every page, and the summary arithmetic
of spec sections 6 and 7 re-derived from the items a test put. It must never import complyd.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

# Highest first, which is also the model's enum order.
SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
RANK: dict[str, int] = {sev: len(SEVERITIES) - i for i, sev in enumerate(SEVERITIES)}
COUNT_KEY: dict[str, str] = {
    "CRITICAL": "CriticalCount",
    "HIGH": "HighCount",
    "MEDIUM": "MediumCount",
    "LOW": "LowCount",
    "INFORMATIONAL": "InformationalCount",
    "UNSPECIFIED": "UnspecifiedCount",
}
STATUSES: tuple[str, ...] = ("COMPLIANT", "NON_COMPLIANT")
T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
T0_EPOCH = int(T0.timestamp())


def at(seconds_after_t0: float) -> datetime:
    return datetime.fromtimestamp(T0_EPOCH + seconds_after_t0, tz=UTC)


def entry(
    item_id: str | None = None,
    severity: str = "LOW",
    status: str = "COMPLIANT",
    title: str | None = None,
    details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One ComplianceItemEntry as boto3 takes it."""
    out: dict[str, Any] = {"Severity": severity, "Status": status}
    if item_id is not None:
        out["Id"] = item_id
    if title is not None:
        out["Title"] = title
    if details is not None:
        out["Details"] = dict(details)
    return out


def put(
    ssm: Any,
    resource_id: str,
    compliance_type: str,
    items: list[dict[str, Any]],
    *,
    when: datetime = T0,
    execution_id: str | None = None,
    execution_type: str | None = None,
    upload_type: str | None = None,
    content_hash: str | None = None,
    resource_type: str = "ManagedInstance",
) -> Any:
    summary: dict[str, Any] = {"ExecutionTime": when}
    if execution_id is not None:
        summary["ExecutionId"] = execution_id
    if execution_type is not None:
        summary["ExecutionType"] = execution_type
    kwargs: dict[str, Any] = {
        "ResourceId": resource_id,
        "ResourceType": resource_type,
        "ComplianceType": compliance_type,
        "ExecutionSummary": summary,
        "Items": items,
    }
    if upload_type is not None:
        kwargs["UploadType"] = upload_type
    if content_hash is not None:
        kwargs["ItemContentHash"] = content_hash
    return ssm.put_compliance_items(**kwargs)


def _all_pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        resp = call(**kwargs)
        out.extend(resp[key])
        token = resp.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def list_items(
    ssm: Any,
    resource_id: str | None = None,
    filters: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    if resource_id is not None:
        kwargs["ResourceIds"] = [resource_id]
    if filters is not None:
        kwargs["Filters"] = filters
    return _all_pages(ssm.list_compliance_items, "ComplianceItems", **kwargs)


def list_resource_summaries(
    ssm: Any, filters: list[dict[str, Any]] | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    if filters is not None:
        kwargs["Filters"] = filters
    return _all_pages(
        ssm.list_resource_compliance_summaries, "ResourceComplianceSummaryItems", **kwargs
    )


def list_compliance_summaries(
    ssm: Any, filters: list[dict[str, Any]] | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    if filters is not None:
        kwargs["Filters"] = filters
    return _all_pages(ssm.list_compliance_summaries, "ComplianceSummaryItems", **kwargs)


def item_key(item: Mapping[str, Any]) -> tuple[str, str, str | None]:
    return (item["ResourceId"], item["ComplianceType"], item.get("Id"))


def epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


# --- summary arithmetic (spec sections 6 and 7) ------------------------------------------


def highest(severities: Iterable[str]) -> str:
    return max(severities, key=RANK.__getitem__, default="UNSPECIFIED")


def severity_summary(severities: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEY.values(), 0)
    for sev in severities:
        counts[COUNT_KEY[sev]] += 1
    return counts


def halves(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """CompliantSummary/NonCompliantSummary over (status, severity) pairs."""
    pairs = list(pairs)
    good = [sev for status, sev in pairs if status == "COMPLIANT"]
    bad = [sev for status, sev in pairs if status == "NON_COMPLIANT"]
    return {
        "CompliantSummary": {
            "CompliantCount": len(good),
            "SeveritySummary": severity_summary(good),
        },
        "NonCompliantSummary": {
            "NonCompliantCount": len(bad),
            "SeveritySummary": severity_summary(bad),
        },
    }


def status_and_severity(pairs: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """Non-compliant if any is; severity = highest among the non-compliant, else among all."""
    pairs = list(pairs)
    bad = [sev for status, sev in pairs if status == "NON_COMPLIANT"]
    if bad:
        return "NON_COMPLIANT", highest(bad)
    return "COMPLIANT", highest(sev for _, sev in pairs)


def resource_row(
    resource_id: str, compliance_type: str, items: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The expected ResourceComplianceSummaryItem (without ExecutionSummary) for these items."""
    pairs = [(it["Status"], it["Severity"]) for it in items]
    status, overall = status_and_severity(pairs)
    return {
        "ResourceId": resource_id,
        "ResourceType": "ManagedInstance",
        "ComplianceType": compliance_type,
        "Status": status,
        "OverallSeverity": overall,
        **halves(pairs),
    }


def fleet_summaries(
    rows: Iterable[Mapping[str, Any]], *, with_total: bool = True
) -> list[dict[str, Any]]:
    """Expected ListComplianceSummaries from resource rows: FleetTotal, then types A-Z."""
    rows = list(rows)
    by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_resource: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        pair = (row["Status"], row["OverallSeverity"])
        by_type[row["ComplianceType"]].append(pair)
        by_resource[row["ResourceId"]].append(pair)
    out: list[dict[str, Any]] = []
    if with_total and rows:
        totals = [status_and_severity(pairs) for pairs in by_resource.values()]
        out.append({"ComplianceType": "FleetTotal", **halves(totals)})
    for name in sorted(by_type):
        out.append({"ComplianceType": name, **halves(by_type[name])})
    return out


# --- projections of responses, so comparisons ignore what a test does not check ----------


def _halves_of(row: Mapping[str, Any]) -> dict[str, Any]:
    good = row.get("CompliantSummary", {})
    bad = row.get("NonCompliantSummary", {})

    def sev(part: Mapping[str, Any]) -> dict[str, int]:
        got = part.get("SeveritySummary", {})
        return {k: int(got.get(k, 0)) for k in COUNT_KEY.values()}

    return {
        "CompliantSummary": {
            "CompliantCount": int(good.get("CompliantCount", 0)),
            "SeveritySummary": sev(good),
        },
        "NonCompliantSummary": {
            "NonCompliantCount": int(bad.get("NonCompliantCount", 0)),
            "SeveritySummary": sev(bad),
        },
    }


def project_resource_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ResourceId": row.get("ResourceId"),
        "ResourceType": row.get("ResourceType"),
        "ComplianceType": row.get("ComplianceType"),
        "Status": row.get("Status"),
        "OverallSeverity": row.get("OverallSeverity"),
        **_halves_of(row),
    }


def project_fleet_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"ComplianceType": row.get("ComplianceType"), **_halves_of(row)}


# --- fleets: many (resource, type) rows at once ------------------------------------------

# Types whose alphabetical order is the same under any collation.
FLEET_TYPES: tuple[str, ...] = ("Association", "Custom:app", "Custom:db", "Custom:web", "Patch")
Fleet = dict[tuple[int, str], list[tuple[str, str]]]


def put_fleet(ssm: Any, fleet: Fleet, resource_ids: list[str]) -> list[dict[str, Any]]:
    """Puts {(resource index, type): [(severity, status), ...]}; returns the expected rows
    in (ResourceId, ComplianceType) order."""
    rows = []
    for (index, ctype), pairs in fleet.items():
        items = [entry(f"id{i:03d}", sev, status) for i, (sev, status) in enumerate(pairs)]
        put(ssm, resource_ids[index], ctype, items)
        rows.append(resource_row(resource_ids[index], ctype, items))
    return sorted(rows, key=lambda row: (row["ResourceId"], row["ComplianceType"]))
