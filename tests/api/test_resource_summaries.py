"""Spec section 6: ListResourceComplianceSummaries rows and their arithmetic."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import Server, make_client, new_instance_id, new_tenant
from .reference import (
    COUNT_KEY,
    FLEET_TYPES,
    SEVERITIES,
    STATUSES,
    T0_EPOCH,
    Fleet,
    at,
    entry,
    epoch,
    list_resource_summaries,
    project_resource_row,
    put,
    put_fleet,
    resource_row,
)


def rows_of(ssm: Any, *rids: str) -> list[dict[str, Any]]:
    return list_resource_summaries(ssm, [{"Key": "ResourceId", "Values": list(rids)}])


def test_non_compliant_row_takes_highest_non_compliant_severity(ssm: Any) -> None:
    rid = new_instance_id()
    items = [
        entry("1", "CRITICAL", "COMPLIANT"),
        entry("2", "LOW", "COMPLIANT"),
        entry("3", "LOW", "NON_COMPLIANT"),
        entry("4", "MEDIUM", "NON_COMPLIANT"),
        entry("5", "MEDIUM", "NON_COMPLIANT"),
    ]
    put(ssm, rid, "Custom:mix", items)
    [row] = rows_of(ssm, rid)
    assert row["Status"] == "NON_COMPLIANT"
    assert row["OverallSeverity"] == "MEDIUM"
    assert row["CompliantSummary"]["CompliantCount"] == 2
    assert row["CompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    assert row["CompliantSummary"]["SeveritySummary"]["LowCount"] == 1
    assert row["NonCompliantSummary"]["NonCompliantCount"] == 3
    assert row["NonCompliantSummary"]["SeveritySummary"]["MediumCount"] == 2
    assert row["NonCompliantSummary"]["SeveritySummary"]["LowCount"] == 1
    assert project_resource_row(row) == resource_row(rid, "Custom:mix", items)


def test_compliant_row_takes_highest_severity_of_all(ssm: Any) -> None:
    rid = new_instance_id()
    items = [entry("1", "INFORMATIONAL"), entry("2", "HIGH"), entry("3", "UNSPECIFIED")]
    put(ssm, rid, "Custom:ok", items)
    [row] = rows_of(ssm, rid)
    assert (row["Status"], row["OverallSeverity"]) == ("COMPLIANT", "HIGH")
    assert row["NonCompliantSummary"]["NonCompliantCount"] == 0
    assert project_resource_row(row) == resource_row(rid, "Custom:ok", items)


def test_every_severity_count_is_present(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:ok", [entry("1", "LOW")])
    [row] = rows_of(ssm, rid)
    for half in ("CompliantSummary", "NonCompliantSummary"):
        assert set(row[half]["SeveritySummary"]) == set(COUNT_KEY.values())
    assert row["ResourceType"] == "ManagedInstance"


def test_row_follows_the_latest_put(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("kb", "CRITICAL", "NON_COMPLIANT")], execution_id="scan-1")
    put(
        ssm,
        rid,
        "Patch",
        [entry("kb", "CRITICAL", "COMPLIANT"), entry("kc", "LOW")],
        when=at(30),
        execution_id="scan-2",
        execution_type="Command",
    )
    [row] = rows_of(ssm, rid)
    assert (row["Status"], row["OverallSeverity"]) == ("COMPLIANT", "CRITICAL")
    assert row["CompliantSummary"]["CompliantCount"] == 2
    assert row["ExecutionSummary"]["ExecutionId"] == "scan-2"
    assert row["ExecutionSummary"]["ExecutionType"] == "Command"
    assert epoch(row["ExecutionSummary"]["ExecutionTime"]) == T0_EPOCH + 30


def test_partial_put_recounts_the_whole_type(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Association", [entry("a", "HIGH"), entry("b", "LOW", "NON_COMPLIANT")])
    put(
        ssm,
        rid,
        "Association",
        [entry("b", "LOW"), entry("c", "MEDIUM", "NON_COMPLIANT")],
        when=at(1),
        upload_type="PARTIAL",
    )
    [row] = rows_of(ssm, rid)
    expected = resource_row(
        rid,
        "Association",
        [entry("a", "HIGH"), entry("b", "LOW"), entry("c", "MEDIUM", "NON_COMPLIANT")],
    )
    assert project_resource_row(row) == expected
    assert row["OverallSeverity"] == "MEDIUM"


def test_one_row_per_resource_and_type_in_order(ssm: Any) -> None:
    first, second = new_instance_id(), new_instance_id()
    put(ssm, second, "Patch", [entry("p")])
    put(ssm, second, "Association", [entry("a")])
    put(ssm, first, "Custom:web", [entry("w1"), entry("w2")])
    put(ssm, first, "Association", [entry("a")])
    got = [(r["ResourceId"], r["ComplianceType"]) for r in list_resource_summaries(ssm)]
    assert got == [
        (first, "Association"),
        (first, "Custom:web"),
        (second, "Association"),
        (second, "Patch"),
    ]


def test_ignored_puts_leave_the_row_alone(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:hh", [entry("a", "HIGH", "NON_COMPLIANT")], when=at(10), content_hash="H")
    before = rows_of(ssm, rid)
    put(ssm, rid, "Custom:hh", [entry("a", "LOW")], when=at(20), content_hash="H")
    put(ssm, rid, "Custom:hh", [entry("a", "LOW")], when=at(5), content_hash="other")
    assert rows_of(ssm, rid) == before


severity_status = st.tuples(st.sampled_from(SEVERITIES), st.sampled_from(STATUSES))
fleets: st.SearchStrategy[Fleet] = st.dictionaries(
    st.tuples(st.integers(0, 3), st.sampled_from(FLEET_TYPES)),
    st.lists(severity_status, min_size=1, max_size=7),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fleet=fleets)
def test_rows_match_reference(server: Server, fleet: Fleet) -> None:
    ssm = make_client(server, new_tenant())
    rids = [new_instance_id() for _ in range(4)]
    expected = put_fleet(ssm, fleet, rids)
    got = [project_resource_row(row) for row in list_resource_summaries(ssm)]
    assert got == expected
