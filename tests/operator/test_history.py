"""Compliance history: every summary change recorded with its put, read through the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.api.harness import Server, make_client, new_instance_id, new_tenant
from tests.api.reference import at, entry, list_compliance_summaries, put

from .runner import complyd, json_lines


def history(db: str, tenant: Any, *args: str) -> list[dict[str, Any]]:
    who = ("--db", db, "--account", tenant.account, "--region", tenant.region)
    return json_lines(complyd("history", *who, *args, "--json").stdout)


def test_a_resource_timeline_records_each_change_once(server: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(server, tenant)
    node, other = new_instance_id(), new_instance_id()
    put(ssm, node, "Patch", [entry("KB1", "HIGH")], when=at(0))
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(10), content_hash="h1")
    # Skipped puts (matching hash, older execution) change nothing.
    put(ssm, node, "Patch", [entry("KB1", "LOW")], when=at(20), content_hash="h1")
    put(ssm, node, "Patch", [entry("KB1", "LOW")], when=at(5))
    # The same state again (applied, no hash): nothing new to record.
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(10))
    # A later execution of the same state is a change of the execution summary.
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(30),
        execution_id="run-2", execution_type="Command")  # fmt: skip
    put(ssm, node, "Custom:Disk", [entry("root", "LOW"), entry("tmp", "MEDIUM", "NON_COMPLIANT")])
    put(ssm, node, "Patch", [], when=at(40))  # removes the type
    put(ssm, other, "Patch", [entry("KB1")])

    got = history(str(server.db), tenant, node)
    assert [(e["ComplianceType"], e["Status"]) for e in got] == [
        ("Patch", "COMPLIANT"),
        ("Patch", "NON_COMPLIANT"),
        ("Patch", "NON_COMPLIANT"),
        ("Custom:Disk", "NON_COMPLIANT"),
        ("Patch", "REMOVED"),
    ]
    assert got[1]["OverallSeverity"] == "HIGH" and got[1]["NonCompliantCount"] == 1
    assert got[2]["ExecutionSummary"] == {
        "ExecutionTime": at(30).timestamp(),
        "ExecutionId": "run-2",
        "ExecutionType": "Command",
    }
    assert (got[3]["CompliantCount"], got[3]["NonCompliantCount"]) == (1, 1)
    assert "OverallSeverity" not in got[4] and got[4]["NonCompliantCount"] == 0
    times = [e["RecordedTime"] for e in got]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 300
    # Other tenants and other nodes have their own timelines.
    assert history(str(server.db), new_tenant(), node) == []
    assert len(history(str(server.db), tenant, other)) == 1

    table = complyd("history", "--db", str(server.db), "--account", tenant.account, node).stdout
    assert "REMOVED" in table and "Custom:Disk" in table


def test_fleet_non_compliant_count_over_time(server: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(server, tenant)
    nodes = [new_instance_id() for _ in range(4)]
    for n in nodes[:3]:
        put(ssm, n, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
    put(ssm, nodes[3], "Patch", [entry("KB1")])
    put(ssm, nodes[0], "Patch", [entry("KB1")], when=at(60))
    # A second non-compliant type on a non-compliant node does not count it twice.
    put(ssm, nodes[1], "Custom:Disk", [entry("root", "LOW", "NON_COMPLIANT")])

    points = history(str(server.db), tenant, "--days", "2", "--bucket", "hour")
    fleet = list_compliance_summaries(ssm)[0]
    assert fleet["ComplianceType"] == "FleetTotal"
    assert points[-1]["NonCompliantCount"] == fleet["NonCompliantSummary"]["NonCompliantCount"] == 2
    assert [p["NonCompliantCount"] for p in points[:-2]] == [0] * (len(points) - 2)
    assert 48 <= len(points) <= 50
    starts = [p["Time"] for p in points]
    assert all(b - a == 3600 for a, b in zip(starts, starts[1:], strict=False))
    assert starts[-1] <= time.time() < starts[-1] + 3600

    days = history(str(server.db), tenant, "--days", "7")
    assert len(days) in (7, 8) and days[-1]["NonCompliantCount"] == 2


def test_history_older_than_the_retention_is_pruned(server_factory: Any) -> None:
    # 0.00005 days is about 4 seconds.
    server = server_factory("--history-days", "0.00005")
    tenant = new_tenant()
    ssm = make_client(server, tenant)
    node = new_instance_id()
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
    assert len(history(str(server.db), tenant, node)) == 1
    deadline = time.monotonic() + 30
    while history(str(server.db), tenant, node) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert history(str(server.db), tenant, node) == []
    # Pruning drops history, never current state.
    assert (
        ssm.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"][0]["Status"]
        == "NON_COMPLIANT"
    )


def test_history_on_postgresql(postgres_db: str, tmp_path: Path) -> None:
    node = new_instance_id()
    bodies = [
        {
            "ResourceId": node,
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": 1.7e9 + i},
            "Items": [{"Id": "KB1", "Severity": "HIGH", "Status": status}],
        }
        for i, status in enumerate(["COMPLIANT", "NON_COMPLIANT", "COMPLIANT"])
    ]
    path = tmp_path / "puts.jsonl"
    path.write_text("\n".join(json.dumps(b) for b in bodies) + "\n")
    complyd("import", "--db", postgres_db, str(path))
    tenant = type("T", (), {"account": "000000000000", "region": "us-east-1"})()
    got = history(postgres_db, tenant, node)
    assert [e["Status"] for e in got] == ["COMPLIANT", "NON_COMPLIANT", "COMPLIANT"]
    points = history(postgres_db, tenant, "--days", "1", "--bucket", "hour")
    assert points[-1]["NonCompliantCount"] == 0 and len(points) in (24, 25)
