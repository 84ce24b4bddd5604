"""GET /metrics: Prometheus text whose numbers agree with what the API reports."""

from __future__ import annotations

import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.api.harness import Api, Server, make_client, new_instance_id, new_tenant
from tests.api.reference import entry, list_compliance_summaries, put

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")


def scrape(server: Server) -> dict[str, list[Any]]:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def gauges(families: dict[str, list[Any]], account: str, region: str) -> dict[tuple, float]:
    return {
        (
            s.labels["compliance_type"],
            s.labels["status"],
            s.labels["severity"],
        ): s.value
        for s in families["complyd_resources"]
        if s.labels["account_id"] == account and s.labels["region"] == region
    }


def api_counts(ssm: Any) -> dict[tuple, float]:
    """ListComplianceSummaries as {(type, status, severity): resources}, zeros left out."""
    out: dict[tuple, float] = {}
    for row in list_compliance_summaries(ssm):
        for status, half, total in (
            ("COMPLIANT", "CompliantSummary", "CompliantCount"),
            ("NON_COMPLIANT", "NonCompliantSummary", "NonCompliantCount"),
        ):
            by_severity = row[half]["SeveritySummary"]
            assert sum(by_severity.values()) == row[half][total]
            for severity in SEVERITIES:
                n = by_severity[severity.capitalize() + "Count"]
                if n:
                    out[(row["ComplianceType"], status, severity)] = n
    return out


def test_compliance_gauges_equal_the_fleet_summaries(server: Server) -> None:
    a, b = new_tenant(), new_tenant("eu-west-1")
    ssm_a, ssm_b = make_client(server, a), make_client(server, b)
    nodes = [new_instance_id() for _ in range(4)]
    put(ssm_a, nodes[0], "Patch", [entry("p1", "CRITICAL", "NON_COMPLIANT"), entry("p2")])
    put(ssm_a, nodes[1], "Patch", [entry("p1", "HIGH")])
    put(ssm_a, nodes[1], "Custom:disk", [entry("d", "MEDIUM", "NON_COMPLIANT")])
    put(ssm_a, nodes[2], "Association", [entry("x", "LOW")])
    put(ssm_b, nodes[3], "Patch", [entry("p1", "LOW", "NON_COMPLIANT")])

    families = scrape(server)
    got_a = gauges(families, a.account, a.region)
    assert got_a == api_counts(ssm_a)
    assert got_a[("FleetTotal", "NON_COMPLIANT", "CRITICAL")] == 1
    assert got_a[("FleetTotal", "NON_COMPLIANT", "MEDIUM")] == 1
    assert gauges(families, b.account, b.region) == api_counts(ssm_b)

    # A node turning compliant moves the gauges at the next scrape.
    put(ssm_a, nodes[0], "Patch", [entry("p1", "CRITICAL"), entry("p2")])
    got_a = gauges(scrape(server), a.account, a.region)
    assert got_a == api_counts(ssm_a)
    assert ("Patch", "NON_COMPLIANT", "CRITICAL") not in got_a
    assert got_a[("Patch", "COMPLIANT", "CRITICAL")] == 1


def request_count(families: dict[str, list[Any]], operation: str, code: str) -> float:
    return sum(
        s.value
        for s in families["complyd_requests"]
        if s.name == "complyd_requests_total" and s.labels == {"operation": operation, "code": code}
    )


def latency_count(families: dict[str, list[Any]], operation: str, code: str) -> float:
    return sum(
        s.value
        for s in families["complyd_request_duration_seconds"]
        if s.name == "complyd_request_duration_seconds_count"
        and s.labels == {"operation": operation, "code": code}
    )


def test_requests_are_counted_and_timed_per_operation_and_error_code(server: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(server, tenant)
    api = Api(server, tenant)
    for _ in range(3):
        put(ssm, new_instance_id(), "Patch", [entry("p")])
    ssm.list_compliance_summaries()
    api.error("ListComplianceItems", {"Filters": [{"Key": "Nope", "Values": ["x"]}]})
    api.error("PutComplianceItems", {"ResourceId": "i-1"})
    api.error("NoSuchOperation", {})

    families = scrape(server)
    assert request_count(families, "PutComplianceItems", "OK") == 3
    assert latency_count(families, "PutComplianceItems", "OK") == 3
    assert request_count(families, "ListComplianceSummaries", "OK") == 1
    assert request_count(families, "ListComplianceItems", "InvalidFilter") == 1
    assert request_count(families, "PutComplianceItems", "ValidationException") == 1
    assert request_count(families, "unknown", "UnknownOperationException") == 1
    total = sum(
        s.value
        for s in families["complyd_request_duration_seconds"]
        if s.name == "complyd_request_duration_seconds_sum"
        and s.labels["operation"] == "PutComplianceItems"
    )
    assert total > 0
