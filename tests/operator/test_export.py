"""complyd export: files read back equal the API's answers, in both formats."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.api.harness import Server, make_client, new_instance_id, new_tenant
from tests.api.reference import at, entry, list_items, list_resource_summaries, put

from .runner import complyd, plain

LAYOUT = "resourcetype=ManagedInstanceInventory"
EXTRA = ("AccountId", "Region", "CaptureTime")


def fill(ssm: Any) -> list[str]:
    nodes = [new_instance_id() for _ in range(4)]
    put(ssm, nodes[0], "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT", title='Kernel, "new"')])
    put(ssm, nodes[0], "Custom:Disk", [entry("root", "LOW", details={"Volume": "/", "Fs": "ext4"})])
    put(ssm, nodes[1], "Association", [entry(f"a{i:03d}", "INFORMATIONAL") for i in range(45)],
        when=at(12.345), execution_id="run-7", execution_type="Command")  # fmt: skip
    put(ssm, nodes[2], "Patch", [entry(None, "MEDIUM", "NON_COMPLIANT"), entry("KB9", "HIGH")])
    put(ssm, nodes[3], "Patch", [entry("KB1")])
    put(ssm, nodes[3], "Patch", [], when=at(60))  # emptied: nothing left to export
    return nodes


def read_dir(directory: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        p.name: [json.loads(line) for line in p.read_text().splitlines()]
        for p in sorted(directory.iterdir())
    }


def without_extra(rows: list[dict[str, Any]], tenant: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        assert (row["AccountId"], row["Region"]) == (tenant.account, tenant.region)
        captured = datetime.strptime(row["CaptureTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - captured).total_seconds()) < 600
        out.append({k: v for k, v in row.items() if k not in EXTRA})
    return out


def test_json_export_is_the_resource_data_sync_layout(server: Server, tmp_path: Path) -> None:
    tenants = [new_tenant(), new_tenant("eu-west-1")]
    filled = {t: fill(make_client(server, t)) for t in tenants}
    out = tmp_path / "export"
    # A small page size makes the export cross many keyset pages.
    done = complyd("export", "--db", str(server.db), "--out", str(out), "--page-size", "7")
    assert "2 tenants, 8 resource summaries, 98 items in 12 files" in done.stdout

    for tenant, nodes in filled.items():
        ssm = make_client(server, tenant)
        where = f"accountid={tenant.account}/region={tenant.region}/{LAYOUT}"
        item_files = read_dir(out / "AWS:ComplianceItem" / where)
        summary_files = read_dir(out / "AWS:ComplianceSummary" / where)
        assert set(item_files) == set(summary_files) == {f"{n}.json" for n in nodes[:3]}
        for node in nodes[:3]:
            assert without_extra(item_files[f"{node}.json"], tenant) == plain(list_items(ssm, node))
            expected = [r for r in list_resource_summaries(ssm) if r["ResourceId"] == node]
            assert without_extra(summary_files[f"{node}.json"], tenant) == plain(expected)
        assert len(item_files[f"{nodes[1]}.json"]) == 45

    again = complyd("export", "--db", str(server.db), "--out", str(out), ok=False)
    assert again.returncode == 2 and "is not empty" in again.stderr


def test_csv_export_has_one_items_and_one_summaries_file_per_tenant(
    server: Server, tmp_path: Path
) -> None:
    tenant = new_tenant("ap-northeast-1")
    ssm = make_client(server, tenant)
    fill(ssm)
    out = tmp_path / "csv"
    complyd("export", "--db", str(server.db), "--out", str(out), "--format", "csv")
    where = out / f"accountid={tenant.account}" / f"region={tenant.region}"
    assert sorted(p.name for p in where.iterdir()) == ["items.csv", "summaries.csv"]

    with open(where / "items.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    api = list_items(ssm)
    assert len(rows) == len(api) == 49
    for row, item in zip(rows, api, strict=True):
        assert row["ResourceId"] == item["ResourceId"]
        assert row["ComplianceType"] == item["ComplianceType"]
        assert row["Id"] == item.get("Id", "")
        assert row["Title"] == item.get("Title", "")
        assert (row["Status"], row["Severity"]) == (item["Status"], item["Severity"])
        assert json.loads(row["Details"]) == item["Details"]
        when = datetime.fromisoformat(row["ExecutionTime"].replace("Z", "+00:00"))
        assert when == item["ExecutionSummary"]["ExecutionTime"]
        assert row["ExecutionId"] == item["ExecutionSummary"].get("ExecutionId", "")
    assert [r["Title"] for r in rows if r["Title"]] == ['Kernel, "new"']

    with open(where / "summaries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    api = list_resource_summaries(ssm)
    assert len(rows) == len(api) == 4
    for row, summary in zip(rows, api, strict=True):
        assert (
            row["ResourceId"],
            row["ComplianceType"],
            row["Status"],
            row["OverallSeverity"],
        ) == (
            summary["ResourceId"],
            summary["ComplianceType"],
            summary["Status"],
            summary["OverallSeverity"],
        )
        non = summary["NonCompliantSummary"]
        assert int(row["NonCompliantCount"]) == non["NonCompliantCount"]
        for name, n in non["SeveritySummary"].items():
            assert int(row["NonCompliant" + name]) == n
        for name, n in summary["CompliantSummary"]["SeveritySummary"].items():
            assert int(row["Compliant" + name]) == n


def test_node_file_names_never_leave_their_directory() -> None:
    from complyd.operator.export import safe_name

    assert safe_name("i-0123456789abcdef0") == "i-0123456789abcdef0"
    assert safe_name("../../etc/passwd") == "..%2F..%2Fetc%2Fpasswd"
    assert safe_name("..") == "%2E%2E" and safe_name(".") == "%2E"
    assert safe_name("web 01:a") == "web%2001%3Aa"
