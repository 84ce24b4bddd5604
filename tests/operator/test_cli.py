"""complyd summary / resources / items / import, run as processes on a server's database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.api.harness import Server, make_client, new_instance_id, new_tenant
from tests.api.reference import (
    at,
    entry,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    put,
)

from .runner import complyd, json_lines, plain


def fill(ssm: Any) -> list[str]:
    nodes = [new_instance_id() for _ in range(3)]
    put(ssm, nodes[0], "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT", title="Kernel")])
    put(ssm, nodes[0], "Custom:Disk", [entry("root", "LOW", details={"Volume": "/"})])
    put(ssm, nodes[1], "Patch", [entry("KB1", "HIGH"), entry(None, "MEDIUM", "NON_COMPLIANT")])
    put(
        ssm,
        nodes[2],
        "Association",
        [entry(f"a{i}", "INFORMATIONAL") for i in range(60)],
        when=at(30),
        execution_id="run-7",
        execution_type="Command",
    )
    return nodes


def test_reads_agree_with_the_api(server: Server) -> None:
    tenant = new_tenant("eu-central-1")
    ssm = make_client(server, tenant)
    nodes = fill(ssm)
    # Another tenant's data never shows.
    put(make_client(server, new_tenant()), new_instance_id(), "Patch", [entry("x")])
    who = ("--db", str(server.db), "--account", tenant.account, "--region", tenant.region)

    got = json_lines(complyd("summary", *who, "--json").stdout)
    assert got == plain(list_compliance_summaries(ssm))
    assert [r["ComplianceType"] for r in got] == [
        "FleetTotal",
        "Association",
        "Custom:Disk",
        "Patch",
    ]

    got = json_lines(complyd("resources", *who, "--json").stdout)
    assert got == plain(list_resource_summaries(ssm))
    assert len(got) == 4

    got = json_lines(
        complyd("resources", *who, "--json", "--type", "Patch", "--status", "non_compliant").stdout
    )
    expected = list_resource_summaries(
        ssm,
        [
            {"Key": "ComplianceType", "Values": ["Patch"]},
            {"Key": "Status", "Values": ["NON_COMPLIANT"]},
        ],
    )
    assert got == plain(expected) and len(got) == 2

    got = json_lines(complyd("resources", *who, "--json", "--severity", "critical").stdout)
    assert [(r["ResourceId"], r["ComplianceType"]) for r in got] == [(nodes[0], "Patch")]
    got = json_lines(complyd("resources", *who, "--json", "--resource-id", nodes[2][:-1]).stdout)
    prefix = [{"Key": "ResourceId", "Values": [nodes[2][:-1]], "Type": "BEGIN_WITH"}]
    assert got == plain(list_resource_summaries(ssm, prefix))
    got = json_lines(complyd("resources", *who, "--json", "--resource-id", nodes[2]).stdout)
    assert [r["ResourceId"] for r in got] == [nodes[2]]

    for node in nodes:
        got = json_lines(complyd("items", *who, node, "--json").stdout)
        assert got == plain(list_items(ssm, node))
    assert len(json_lines(complyd("items", *who, nodes[2], "--json").stdout)) == 60


def test_tables_for_people(server: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(server, tenant)
    nodes = fill(ssm)
    who = ("--db", str(server.db), "--account", tenant.account)

    out = complyd("summary", *who).stdout
    fleet = next(line for line in out.splitlines() if "FleetTotal" in line)
    # FleetTotal: nodes 2 compliant, nodes 0 and 1 non-compliant (CRITICAL and MEDIUM).
    assert [c.strip() for c in fleet.split("│")[1:-1]] == [
        "FleetTotal", "1", "2", "1", "0", "1", "0", "0", "0"
    ]  # fmt: skip

    out = complyd("resources", *who, "--status", "NON_COMPLIANT").stdout
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2
    assert nodes[0] in rows[0] and "CRITICAL" in rows[0] and "2024-01-01T12:00:00Z" in rows[0]

    out = complyd("items", *who, nodes[0]).stdout
    assert "Kernel" in out and "NON_COMPLIANT" in out and "Custom:Disk" in out


def test_read_commands_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for command in (["summary"], ["resources"], ["items", "i-00000001"], ["history"]):
        done = complyd(*command, "--db", str(missing), ok=False)
        assert done.returncode == 1 and f"no database at {missing}" in done.stderr
    done = complyd("export", "--db", str(missing), "--out", str(tmp_path / "out"), ok=False)
    assert done.returncode == 1 and not missing.exists()


def test_bad_input_is_reported_as_the_api_would(server: Server) -> None:
    db = ("--db", str(server.db))
    done = complyd("items", *db, "not-a-node", ok=False)
    assert done.returncode == 1
    assert "InvalidResourceId: Resource id 'not-a-node' is not a managed node id" in done.stderr
    assert complyd("items", *db, "not-a-node", "--any-resource-id", "--json").stdout == ""
    done = complyd("resources", *db, "--severity", "SEVERE", ok=False)
    assert done.returncode == 2 and "SEVERE" in done.stderr


def put_body(node: str, ctype: str, items: list[dict[str, Any]], when: float = 1.7e9) -> str:
    return json.dumps(
        {
            "ResourceId": node,
            "ResourceType": "ManagedInstance",
            "ComplianceType": ctype,
            "ExecutionSummary": {"ExecutionTime": when},
            "Items": items,
        }
    )


def test_import_applies_lines_like_puts_and_reports_rejections(
    server: Server, tmp_path: Path
) -> None:
    tenant = new_tenant("ap-south-1")
    nodes = [new_instance_id() for _ in range(300)]
    lines = [put_body(n, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")]) for n in nodes]
    # Later lines for the same (resource, type) win, in file order.
    lines += [put_body(n, "Patch", [entry("KB1", "HIGH")], when=1.8e9) for n in nodes[:10]]
    lines.insert(5, "")  # blank lines are skipped
    lines.insert(7, "{not json")
    lines.insert(9, put_body("i-1", "Patch", []))
    lines.insert(11, put_body(nodes[0], "Inventory", [entry("x")]))
    lines.insert(13, put_body(nodes[0], "Patch", [{"Severity": "HIGH"}]))
    path = tmp_path / "puts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    who = ("--db", str(server.db), "--account", tenant.account, "--region", tenant.region)

    done = complyd("import", *who, str(path), ok=False)
    assert done.returncode == 1
    assert f"{path}: 310 accepted, 4 rejected" in done.stdout
    assert "line 8: SerializationException" in done.stderr
    assert "line 10: InvalidResourceId" in done.stderr
    assert "line 12: ValidationException: ComplianceType 'Inventory'" in done.stderr
    assert (
        "line 14: ValidationException: 1 validation error detected: Value null at "
        "'items.1.member.status' failed to satisfy constraint: Member must not be null"
    ) in done.stderr

    ssm = make_client(server, tenant)
    fleet = list_compliance_summaries(ssm)[0]
    assert fleet["CompliantSummary"]["CompliantCount"] == 10
    assert fleet["NonCompliantSummary"]["NonCompliantCount"] == 290
    assert list_items(ssm, nodes[0])[0]["Status"] == "COMPLIANT"

    report = json.loads(complyd("import", *who, "--json", str(path), ok=False).stdout)
    assert report["accepted"] == 310
    assert [r["line"] for r in report["rejected"]] == [8, 10, 12, 14]


def test_import_and_read_on_postgresql(postgres_db: str, tmp_path: Path) -> None:
    nodes = [new_instance_id() for _ in range(20)]
    path = tmp_path / "puts.jsonl"
    path.write_text(
        "\n".join(put_body(n, "Custom:Agent", [entry("on", "MEDIUM")]) for n in nodes) + "\n"
    )
    assert "20 accepted, 0 rejected" in complyd("import", "--db", postgres_db, str(path)).stdout
    summary = json_lines(complyd("summary", "--db", postgres_db, "--json").stdout)
    assert [(r["ComplianceType"], r["CompliantSummary"]["CompliantCount"]) for r in summary] == [
        ("FleetTotal", 20),
        ("Custom:Agent", 20),
    ]
    rows = json_lines(complyd("resources", "--db", postgres_db, "--json").stdout)
    assert [r["ResourceId"] for r in rows] == nodes
