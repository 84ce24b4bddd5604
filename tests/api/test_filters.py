"""Spec sections 5, 6, 7 and 8: filter keys and operators of the three list calls.

Each list call gets one module-wide data set in its own tenant; every case names the rows it
expects by hand, so the cases read as a table of the filter semantics.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Server, make_client, new_instance_id, new_tenant
from .reference import (
    T0_EPOCH,
    at,
    entry,
    fleet_summaries,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    project_fleet_row,
    put,
)

Filters = list[dict[str, Any]]


def iso(seconds_after_t0: int) -> str:
    return at(seconds_after_t0).strftime("%Y-%m-%dT%H:%M:%SZ")


def flt(key: str, *values: str, type_: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Key": key, "Values": list(values)}
    if type_ is not None:
        out["Type"] = type_
    return out


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


# --- ListComplianceItems --------------------------------------------------------------


@pytest.fixture(scope="module")
def items_ssm(server: Server) -> Any:
    ssm = make_client(server, new_tenant())
    rid = new_instance_id()
    put(
        ssm,
        rid,
        "Patch",
        [
            entry(
                "KB1",
                "CRITICAL",
                "NON_COMPLIANT",
                "Security update",
                {
                    "Classification": "SecurityUpdates",
                    "PatchState": "Missing",
                    "PatchSeverity": "Critical",
                    "PatchBaselineId": "pb-1",
                    "PatchGroup": "web",
                },
            ),
            entry(
                "KB2",
                "LOW",
                "COMPLIANT",
                "Feature pack",
                {
                    "Classification": "Updates",
                    "PatchState": "Installed",
                    "PatchGroup": "web",
                    "InstalledTime": "2024-01-01T00:00:00Z",
                },
            ),
            entry(
                "KB3",
                "MEDIUM",
                "COMPLIANT",
                "Security rollup",
                {"Classification": "SecurityUpdates", "PatchState": "Installed"},
            ),
        ],
        when=at(100),
        execution_id="scan-1",
        execution_type="Command",
    )
    put(
        ssm,
        rid,
        "Association",
        [
            entry(
                "assoc-1",
                "HIGH",
                "NON_COMPLIANT",
                "Run doc",
                {"DocumentName": "AWS-RunShellScript", "DocumentVersion": "1"},
            ),
            entry(
                "assoc-2",
                "UNSPECIFIED",
                "COMPLIANT",
                "Config",
                {"DocumentName": "AWS-ConfigureAWSPackage", "DocumentVersion": "$LATEST"},
            ),
        ],
        when=at(200),
        execution_id="assoc-run",
        execution_type="Association",
    )
    put(
        ssm,
        rid,
        "Custom:app",
        [
            entry("c1", "INFORMATIONAL", "COMPLIANT", "Widget alpha"),
            entry("c2", "HIGH", "NON_COMPLIANT", "Widget beta"),
        ],
        when=at(300),
        execution_id="app-7",
        execution_type="Script",
    )
    return ssm


KB = {"KB1", "KB2", "KB3"}
ASSOC = {"assoc-1", "assoc-2"}
CUSTOM = {"c1", "c2"}
ALL = KB | ASSOC | CUSTOM

ITEM_CASES: list[tuple[str, Filters, set[str]]] = [
    ("no-filter", [], ALL),
    ("type-default-equal", [flt("ComplianceType", "Patch")], KB),
    ("type-explicit-equal", [flt("ComplianceType", "Patch", type_="EQUAL")], KB),
    ("values-ored", [flt("ComplianceType", "Patch", "Association")], KB | ASSOC),
    ("not-equal-none", [flt("ComplianceType", "Patch", "Association", type_="NOT_EQUAL")], CUSTOM),
    ("begin-with", [flt("ComplianceType", "Custom:", type_="BEGIN_WITH")], CUSTOM),
    ("id", [flt("Id", "KB2")], {"KB2"}),
    ("id-prefix", [flt("Id", "KB", type_="BEGIN_WITH")], KB),
    ("title-prefix", [flt("Title", "Security", type_="BEGIN_WITH")], {"KB1", "KB3"}),
    ("prefix-is-case-sensitive", [flt("Id", "kb", type_="BEGIN_WITH")], set()),
    ("prefix-has-no-wildcards", [flt("Id", "K_", "%", "KB%", type_="BEGIN_WITH")], set()),
    ("title-less", [flt("Title", "G", type_="LESS_THAN")], {"KB2", "assoc-2"}),
    ("title-greater", [flt("Title", "S", type_="GREATER_THAN")], {"KB1", "KB3"} | CUSTOM),
    ("status", [flt("Status", "NON_COMPLIANT")], {"KB1", "assoc-1", "c2"}),
    ("severity", [flt("Severity", "HIGH")], {"assoc-1", "c2"}),
    (
        "severity-rank-less",
        [flt("Severity", "HIGH", type_="LESS_THAN")],
        {"KB2", "KB3", "assoc-2", "c1"},
    ),
    (
        "severity-rank-greater",
        [flt("Severity", "INFORMATIONAL", type_="GREATER_THAN")],
        {"KB1", "KB2", "KB3", "assoc-1", "c2"},
    ),
    (
        "severity-not-equal",
        [flt("Severity", "HIGH", "LOW", type_="NOT_EQUAL")],
        {"KB1", "KB3", "assoc-2", "c1"},
    ),
    ("exec-id", [flt("ExecutionId", "scan-1")], KB),
    ("exec-id-not", [flt("ExecutionId", "scan-1", type_="NOT_EQUAL")], ASSOC | CUSTOM),
    ("exec-type", [flt("ExecutionType", "Association")], ASSOC),
    ("time-less-iso", [flt("ExecutionTime", iso(150), type_="LESS_THAN")], KB),
    (
        "time-greater-epoch",
        [flt("ExecutionTime", str(T0_EPOCH + 150), type_="GREATER_THAN")],
        ASSOC | CUSTOM,
    ),
    ("time-greater-strict", [flt("ExecutionTime", iso(200), type_="GREATER_THAN")], CUSTOM),
    ("time-less-strict", [flt("ExecutionTime", iso(100), type_="LESS_THAN")], set()),
    ("classification", [flt("Classification", "SecurityUpdates")], {"KB1", "KB3"}),
    ("patch-group", [flt("PatchGroup", "web")], {"KB1", "KB2"}),
    (
        "patch-group-missing-not-equal",
        [flt("PatchGroup", "web", type_="NOT_EQUAL")],
        {"KB3"} | ASSOC | CUSTOM,
    ),
    ("patch-group-missing-begin", [flt("PatchGroup", "w", type_="BEGIN_WITH")], {"KB1", "KB2"}),
    ("patch-group-missing-greater", [flt("PatchGroup", "a", type_="GREATER_THAN")], {"KB1", "KB2"}),
    ("patch-group-missing-less", [flt("PatchGroup", "zzz", type_="LESS_THAN")], {"KB1", "KB2"}),
    ("patch-state", [flt("PatchState", "Installed")], {"KB2", "KB3"}),
    ("patch-severity", [flt("PatchSeverity", "Critical")], {"KB1"}),
    ("patch-baseline", [flt("PatchBaselineId", "pb-1")], {"KB1"}),
    ("installed-time", [flt("InstalledTime", "2024-01-01T00:00:00Z")], {"KB2"}),
    ("document-name", [flt("DocumentName", "AWS-Run", type_="BEGIN_WITH")], {"assoc-1"}),
    ("document-version", [flt("DocumentVersion", "$LATEST")], {"assoc-2"}),
    ("and", [flt("ComplianceType", "Patch"), flt("Status", "COMPLIANT")], {"KB2", "KB3"}),
    (
        "and-or",
        [flt("ComplianceType", "Patch", "Custom:app"), flt("Severity", "HIGH", "CRITICAL")],
        {"KB1", "c2"},
    ),
    ("and-empty", [flt("ComplianceType", "Patch"), flt("Id", "c1")], set()),
]


@pytest.mark.parametrize(
    ("filters", "expected"), [c[1:] for c in ITEM_CASES], ids=[c[0] for c in ITEM_CASES]
)
def test_item_filters(items_ssm: Any, filters: Filters, expected: set[str]) -> None:
    got = [it["Id"] for it in list_items(items_ssm, filters=filters)]
    assert len(got) == len(set(got))
    assert set(got) == expected


@pytest.mark.parametrize("key", ["Foo", "OverallSeverity", "Details.PatchGroup"])
def test_unknown_item_filter_key(items_ssm: Any, key: str) -> None:
    code = error_code(items_ssm.list_compliance_items, Filters=[flt(key, "x")])
    assert code == "InvalidFilter"


@pytest.mark.parametrize("op", ["LESS_THAN", "GREATER_THAN"])
def test_unparseable_time_value(items_ssm: Any, op: str) -> None:
    code = error_code(
        items_ssm.list_compliance_items, Filters=[flt("ExecutionTime", "yesterday", type_=op)]
    )
    assert code == "InvalidFilter"


# --- ListResourceComplianceSummaries and ListComplianceSummaries -----------------------


@pytest.fixture(scope="module")
def rows_data(server: Server) -> tuple[Any, dict[str, str]]:
    ssm = make_client(server, new_tenant())
    ids = {name: new_instance_id() for name in "ABC"}
    a, b, c = ids["A"], ids["B"], ids["C"]
    put(
        ssm,
        a,
        "Patch",
        [entry("p1", "CRITICAL", "NON_COMPLIANT", details={"PatchGroup": "web"})],
        when=at(10),
        execution_id="pa",
        execution_type="Command",
    )
    put(
        ssm,
        a,
        "Custom:app",
        [entry("c", "HIGH")],
        when=at(20),
        execution_id="ca",
        execution_type="Script",
    )
    put(
        ssm,
        b,
        "Patch",
        [entry("p1", "LOW", details={"PatchGroup": "db"})],
        when=at(30),
        execution_id="pb",
        execution_type="Command",
    )
    put(
        ssm,
        b,
        "Association",
        [entry("a", "MEDIUM", "NON_COMPLIANT")],
        when=at(40),
        execution_id="ab",
        execution_type="Association",
    )
    put(
        ssm,
        c,
        "Association",
        [entry("a", "INFORMATIONAL")],
        when=at(50),
        execution_id="ac",
        execution_type="Association",
    )
    put(
        ssm,
        c,
        "Custom:app",
        [entry("c", "UNSPECIFIED")],
        when=at(60),
        execution_id="cc",
        execution_type="Script",
    )
    return ssm, ids


ROW_CASES: list[tuple[str, Filters, set[str]]] = [
    (
        "none",
        [],
        {"A/Patch", "A/Custom:app", "B/Patch", "B/Association", "C/Association", "C/Custom:app"},
    ),
    ("type", [flt("ComplianceType", "Patch")], {"A/Patch", "B/Patch"}),
    (
        "type-not",
        [flt("ComplianceType", "Patch", "Association", type_="NOT_EQUAL")],
        {"A/Custom:app", "C/Custom:app"},
    ),
    ("status", [flt("Status", "NON_COMPLIANT")], {"A/Patch", "B/Association"}),
    ("overall", [flt("OverallSeverity", "HIGH")], {"A/Custom:app"}),
    (
        "overall-greater",
        [flt("OverallSeverity", "MEDIUM", type_="GREATER_THAN")],
        {"A/Patch", "A/Custom:app"},
    ),
    (
        "overall-less",
        [flt("OverallSeverity", "LOW", type_="LESS_THAN")],
        {"C/Association", "C/Custom:app"},
    ),
    ("resource-id", [flt("ResourceId", "@B")], {"B/Patch", "B/Association"}),
    ("instance-id", [flt("InstanceId", "@B")], {"B/Patch", "B/Association"}),
    (
        "resource-id-not",
        [flt("ResourceId", "@A", "@B", type_="NOT_EQUAL")],
        {"C/Association", "C/Custom:app"},
    ),
    (
        "resource-type",
        [flt("ResourceType", "ManagedInstance")],
        {"A/Patch", "A/Custom:app", "B/Patch", "B/Association", "C/Association", "C/Custom:app"},
    ),
    ("exec-id", [flt("ExecutionId", "pa")], {"A/Patch"}),
    (
        "exec-id-prefix",
        [flt("ExecutionId", "c", type_="BEGIN_WITH")],
        {"A/Custom:app", "C/Custom:app"},
    ),
    ("exec-type", [flt("ExecutionType", "Command")], {"A/Patch", "B/Patch"}),
    (
        "time-greater",
        [flt("ExecutionTime", iso(30), type_="GREATER_THAN")],
        {"B/Association", "C/Association", "C/Custom:app"},
    ),
    ("time-less", [flt("ExecutionTime", str(T0_EPOCH + 20), type_="LESS_THAN")], {"A/Patch"}),
    ("patch-group", [flt("PatchGroup", "web")], {"A/Patch"}),
    ("patch-group-or", [flt("PatchGroup", "web", "db")], {"A/Patch", "B/Patch"}),
    ("and", [flt("ComplianceType", "Patch"), flt("Status", "COMPLIANT")], {"B/Patch"}),
]


def resolve(filters: Filters, ids: dict[str, str]) -> Filters:
    """Replaces '@A'-style placeholders with the resource ids of the data set."""
    return [
        {**f, "Values": [ids[v[1:]] if v.startswith("@") else v for v in f["Values"]]}
        for f in filters
    ]


@pytest.mark.parametrize(
    ("filters", "expected"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES]
)
def test_resource_summary_filters(
    rows_data: tuple[Any, dict[str, str]], filters: Filters, expected: set[str]
) -> None:
    ssm, ids = rows_data
    names = {rid: name for name, rid in ids.items()}
    rows = list_resource_summaries(ssm, resolve(filters, ids))
    got = [f"{names[r['ResourceId']]}/{r['ComplianceType']}" for r in rows]
    assert len(got) == len(set(got))
    assert set(got) == expected


# ComplianceType filters also decide FleetTotal's presence: see test_compliance_summaries.
SUMMARY_CASES = [c for c in ROW_CASES if c[2] and all(f["Key"] != "ComplianceType" for f in c[1])]


@pytest.mark.parametrize(
    ("filters", "expected"), [c[1:] for c in SUMMARY_CASES], ids=[c[0] for c in SUMMARY_CASES]
)
def test_compliance_summary_filters(
    rows_data: tuple[Any, dict[str, str]], filters: Filters, expected: set[str]
) -> None:
    """The same keys select rows before counting (section 7); FleetTotal stays."""
    ssm, ids = rows_data
    names = {rid: name for name, rid in ids.items()}
    all_rows = list_resource_summaries(ssm)
    selected = [
        r for r in all_rows if f"{names[r['ResourceId']]}/{r['ComplianceType']}" in expected
    ]
    got = [project_fleet_row(r) for r in list_compliance_summaries(ssm, resolve(filters, ids))]
    assert got == fleet_summaries(selected)


def test_patch_group_is_the_rows_first_in_item_order(server: Server) -> None:
    """Decision 11: a row's patch group is the first PatchGroup detail in item order (a node
    belongs to one patch group, as in AWS); the filter matches that value."""
    ssm = make_client(server, new_tenant())
    rid = new_instance_id()
    # Items are ordered by Id: "a" (no group), "b" (web), "c" (db).
    put(
        ssm,
        rid,
        "Patch",
        [
            entry("c", details={"PatchGroup": "db"}),
            entry("a"),
            entry("b", details={"PatchGroup": "web"}),
        ],
    )
    rows = list_resource_summaries(ssm, [flt("PatchGroup", "web")])
    assert [(r["ResourceId"], r["ComplianceType"]) for r in rows] == [(rid, "Patch")]
    assert list_resource_summaries(ssm, [flt("PatchGroup", "db")]) == []
    assert list_resource_summaries(ssm, [flt("PatchGroup", "other")]) == []


@pytest.mark.parametrize("key", ["Foo", "Title", "DocumentName", "Severity"])
def test_unknown_summary_filter_keys(rows_data: tuple[Any, dict[str, str]], key: str) -> None:
    ssm, _ = rows_data
    for call in (ssm.list_resource_compliance_summaries, ssm.list_compliance_summaries):
        assert error_code(call, Filters=[flt(key, "x")]) == "InvalidFilter"


def test_unparseable_time_on_summaries(rows_data: tuple[Any, dict[str, str]]) -> None:
    ssm, _ = rows_data
    bad = [flt("ExecutionTime", "not-a-time", type_="GREATER_THAN")]
    for call in (ssm.list_resource_compliance_summaries, ssm.list_compliance_summaries):
        assert error_code(call, Filters=bad) == "InvalidFilter"
