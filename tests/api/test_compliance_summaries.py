"""Spec section 7: ListComplianceSummaries counts resources per type, FleetTotal first."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import Server, make_client, new_instance_id, new_tenant
from .reference import (
    FLEET_TYPES,
    SEVERITIES,
    STATUSES,
    Fleet,
    entry,
    fleet_summaries,
    list_compliance_summaries,
    list_resource_summaries,
    project_fleet_row,
    put,
    put_fleet,
)


def summaries(ssm: Any, filters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [project_fleet_row(r) for r in list_compliance_summaries(ssm, filters)]


def counts(row: dict[str, Any]) -> tuple[int, int]:
    return (
        row["CompliantSummary"]["CompliantCount"],
        row["NonCompliantSummary"]["NonCompliantCount"],
    )


def test_counts_resources_not_items(ssm: Any) -> None:
    a, b = new_instance_id(), new_instance_id()
    put(ssm, a, "Patch", [entry(str(i), "HIGH", "NON_COMPLIANT") for i in range(5)])
    put(ssm, b, "Patch", [entry(str(i), "LOW") for i in range(7)])
    got = {r["ComplianceType"]: r for r in summaries(ssm)}
    assert set(got) == {"FleetTotal", "Patch"}
    assert counts(got["Patch"]) == (1, 1)
    assert got["Patch"]["NonCompliantSummary"]["SeveritySummary"]["HighCount"] == 1
    assert got["Patch"]["CompliantSummary"]["SeveritySummary"]["LowCount"] == 1
    assert counts(got["FleetTotal"]) == (1, 1)


def test_fleet_total_first_then_alphabetical(ssm: Any) -> None:
    rid = new_instance_id()
    for ctype in ("Patch", "Custom:web", "Association", "Custom:app"):
        put(ssm, rid, ctype, [entry("x")])
    names = [r["ComplianceType"] for r in list_compliance_summaries(ssm)]
    assert names == ["FleetTotal", "Association", "Custom:app", "Custom:web", "Patch"]


def test_fleet_total_counts_each_resource_once(ssm: Any) -> None:
    bad, good = new_instance_id(), new_instance_id()
    # bad: compliant CRITICAL patch row, non-compliant LOW custom row -> NON_COMPLIANT, LOW
    put(ssm, bad, "Patch", [entry("p", "CRITICAL")])
    put(ssm, bad, "Custom:app", [entry("c", "LOW", "NON_COMPLIANT")])
    put(ssm, bad, "Association", [entry("a", "MEDIUM", "NON_COMPLIANT"), entry("b", "HIGH")])
    # good: all compliant -> COMPLIANT with the highest of its rows, HIGH
    put(ssm, good, "Patch", [entry("p", "INFORMATIONAL")])
    put(ssm, good, "Custom:app", [entry("c", "HIGH")])
    total = summaries(ssm)[0]
    assert total["ComplianceType"] == "FleetTotal"
    assert counts(total) == (1, 1)
    assert total["NonCompliantSummary"]["SeveritySummary"]["MediumCount"] == 1
    assert total["CompliantSummary"]["SeveritySummary"]["HighCount"] == 1
    assert summaries(ssm) == fleet_summaries(list_resource_summaries(ssm))


def test_removed_type_disappears(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:gone", [entry("x", "HIGH", "NON_COMPLIANT")])
    put(ssm, rid, "Patch", [entry("x")])
    put(ssm, rid, "Custom:gone", [])
    got = summaries(ssm)
    assert [r["ComplianceType"] for r in got] == ["FleetTotal", "Patch"]
    assert counts(got[0]) == (1, 0)


def test_compliance_type_filter_equal_drops_fleet_total(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("p", "HIGH", "NON_COMPLIANT")])
    put(ssm, rid, "Association", [entry("a")])
    got = summaries(ssm, [{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}])
    assert [r["ComplianceType"] for r in got] == ["Patch"]
    assert counts(got[0]) == (0, 1)


def test_compliance_type_filter_not_equal_keeps_fleet_total_over_the_rest(ssm: Any) -> None:
    a, b = new_instance_id(), new_instance_id()
    put(ssm, a, "Association", [entry("x", "CRITICAL", "NON_COMPLIANT")])
    put(ssm, a, "Patch", [entry("p", "LOW")])
    put(ssm, b, "Association", [entry("x", "LOW")])
    put(ssm, b, "Custom:app", [entry("c", "MEDIUM", "NON_COMPLIANT")])
    flt = [{"Key": "ComplianceType", "Values": ["Association"], "Type": "NOT_EQUAL"}]
    got = summaries(ssm, flt)
    rows = [r for r in list_resource_summaries(ssm) if r["ComplianceType"] != "Association"]
    assert got == fleet_summaries(rows)
    assert [r["ComplianceType"] for r in got] == ["FleetTotal", "Custom:app", "Patch"]
    # a is compliant once its Association row is filtered out.
    assert counts(got[0]) == (1, 1)


def test_filters_select_rows_before_counting(ssm: Any) -> None:
    a, b = new_instance_id(), new_instance_id()
    put(ssm, a, "Patch", [entry("p", "HIGH", "NON_COMPLIANT")])
    put(ssm, a, "Custom:app", [entry("c", "LOW")])
    put(ssm, b, "Patch", [entry("p", "LOW")])
    got = summaries(ssm, [{"Key": "Status", "Values": ["NON_COMPLIANT"]}])
    rows = [r for r in list_resource_summaries(ssm) if r["Status"] == "NON_COMPLIANT"]
    assert got == fleet_summaries(rows)
    assert [r["ComplianceType"] for r in got] == ["FleetTotal", "Patch"]
    assert counts(got[0]) == (0, 1)

    by_resource = summaries(ssm, [{"Key": "ResourceId", "Values": [b]}])
    assert by_resource == fleet_summaries(
        [r for r in list_resource_summaries(ssm) if r["ResourceId"] == b]
    )


def test_severity_of_fleet_total_among_non_compliant_rows(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("p", "CRITICAL")])
    put(ssm, rid, "Custom:app", [entry("c", "INFORMATIONAL", "NON_COMPLIANT")])
    total = summaries(ssm)[0]
    assert total["NonCompliantSummary"]["SeveritySummary"]["InformationalCount"] == 1
    assert total["NonCompliantSummary"]["SeveritySummary"]["CriticalCount"] == 0


severity_status = st.tuples(st.sampled_from(SEVERITIES), st.sampled_from(STATUSES))
fleets: st.SearchStrategy[Fleet] = st.dictionaries(
    st.tuples(st.integers(0, 4), st.sampled_from(FLEET_TYPES)),
    st.lists(severity_status, min_size=1, max_size=5),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fleet=fleets)
def test_fleet_summaries_match_reference(server: Server, fleet: Fleet) -> None:
    ssm = make_client(server, new_tenant())
    rows = put_fleet(ssm, fleet, [new_instance_id() for _ in range(5)])
    assert summaries(ssm) == fleet_summaries(rows)
    bad_rows = [r for r in rows if r["Status"] == "NON_COMPLIANT"]
    if bad_rows:
        flt = [{"Key": "Status", "Values": ["NON_COMPLIANT"]}]
        assert summaries(ssm, flt) == fleet_summaries(bad_rows)
