"""`complyd ingest --format sarif`: bandit's real SARIF, and logs written to the SARIF 2.1.0
specification for what bandit never emits (suppressions, kinds, several runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.api.harness import Server, Tenant, make_client, new_instance_id
from tests.api.reference import list_items, list_resource_summaries

from . import oracle
from .conftest import ingest


def test_bandit_scan_reads_back_as_the_log_says(
    bandit_sarif: Path, strict_server: Server, tenant: Tenant
) -> None:
    ctype, end, expected = oracle.bandit_sarif(bandit_sarif)
    node = new_instance_id()
    done = ingest(
        "--format", "sarif", bandit_sarif, "--endpoint-url", strict_server.url,
        "--resource-id", node, tenant=tenant,
    )  # fmt: skip
    ssm = make_client(strict_server, tenant)
    items = list_items(ssm, node)
    assert oracle.stored(items) == expected
    assert {i["ComplianceType"] for i in items} == {ctype} == {"Custom:Bandit"}
    assert {i["ExecutionSummary"]["ExecutionTime"].timestamp() for i in items} == {end}
    # bandit's three severities come through as three levels.
    assert {i["Severity"] for i in items} == {"HIGH", "MEDIUM", "LOW"}
    assert any(i["Id"].startswith("B608:db/queries.py:") for i in items)
    [row] = list_resource_summaries(ssm)
    assert (row["Status"], row["OverallSeverity"]) == ("NON_COMPLIANT", "HIGH")
    assert f"{len(expected)} items ({len(expected)} NON_COMPLIANT)" in done.stdout


def result(rule: str, line: int, **extra: Any) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "message": {"text": f"{rule} found at line {line}\nsecond line of the message"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "src/app.js"},
                    "region": {"startLine": line, "startColumn": 3},
                }
            }
        ],
        **extra,
    }


def run(tool: str, results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    rules = [
        {"id": "R1", "name": "plain", "defaultConfiguration": {"level": "error"}},
        {"id": "R2", "name": "scored", "properties": {"security-severity": "9.8"}},
        {"id": "R3", "name": "templated", "messageStrings": {"m": {"text": "{0} is {1}"}}},
    ]
    return {
        "tool": {"driver": {"name": tool, "version": "1.2", "rules": rules}},
        "invocations": [{"executionSuccessful": True, "endTimeUtc": "2026-02-03T04:05:06Z"}],
        "results": results,
        **extra,
    }


def write(path: Path, *runs: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"version": "2.1.0", "runs": list(runs)}))
    return path


def test_the_specification_s_result_fields(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    node = new_instance_id()
    log = write(
        tmp_path / "scan.sarif",
        run(
            "Semgrep OSS",
            [
                result("R1", 10),  # rule default level error -> HIGH
                result("R2", 11, level="note"),  # security-severity 9.8 wins -> CRITICAL
                result("R1", 12, level="warning", properties={"security-severity": "5.0"}),
                result("R1", 13, level="none"),
                result("R1", 14, kind="pass"),  # a check that held -> COMPLIANT
                result("R1", 15, kind="review", level="note"),
                result("R1", 16, suppressions=[{"kind": "inSource"}]),
                result("R1", 17, suppressions=[{"kind": "external", "status": "accepted"}]),
                result("R1", 18, suppressions=[{"kind": "external", "status": "underReview"}]),
                result("R1", 19, kind="notApplicable"),
                result("R1", 20, kind="informational"),
                result("R1", 21, baselineState="absent"),
                result("R1", 22),
                result("R1", 22),  # the same rule twice on a line: the column, then #n
                {
                    "ruleIndex": 2,
                    "message": {"id": "m", "arguments": ["token", "hard-coded"]},
                    "locations": [],
                },
            ],
        ),
    )
    done = ingest(
        "--format", "sarif", log, "--endpoint-url", strict_server.url, "--resource-id", node,
        tenant=tenant,
    )  # fmt: skip
    got = {i["Id"]: i for i in list_items(make_client(strict_server, tenant), node)}
    assert {i["ComplianceType"] for i in got.values()} == {"Custom:Semgrep_OSS"}
    severity = {k: (v["Status"], v["Severity"]) for k, v in got.items()}
    assert severity == {
        "R1:src/app.js:10": ("NON_COMPLIANT", "HIGH"),
        "R2:src/app.js:11": ("NON_COMPLIANT", "CRITICAL"),
        "R1:src/app.js:12": ("NON_COMPLIANT", "MEDIUM"),
        "R1:src/app.js:13": ("NON_COMPLIANT", "INFORMATIONAL"),
        "R1:src/app.js:14": ("COMPLIANT", "HIGH"),
        "R1:src/app.js:15": ("NON_COMPLIANT", "LOW"),
        "R1:src/app.js:18": ("NON_COMPLIANT", "HIGH"),
        "R1:src/app.js:22": ("NON_COMPLIANT", "HIGH"),
        "R1:src/app.js:22:3": ("NON_COMPLIANT", "HIGH"),
        "R3": ("NON_COMPLIANT", "MEDIUM"),
    }
    assert got["R3"]["Title"] == "token is hard-coded"
    assert got["R1:src/app.js:10"]["Title"] == "R1 found at line 10"
    assert got["R2:src/app.js:11"]["Details"] == {
        "Tool": "Semgrep OSS 1.2",
        "Rule": "R2",
        "RuleName": "scored",
        "Location": "src/app.js:11:3",
        "Level": "note",
        "SecuritySeverity": "9.8",
    }
    assert "skipped 1 absent, 1 informational, 1 notApplicable, 2 suppressed" in done.stdout
    assert "tool name 'Semgrep OSS' becomes type Custom:Semgrep_OSS" in done.stdout


def test_runs_become_one_put_per_tool(tmp_path: Path, open_server: Server, tenant: Tenant) -> None:
    log = write(
        tmp_path / "multi.sarif",
        run("checkov", [result("R1", 1)], invocations=[{"machine": "build-7"}]),
        run("checkov", [result("R1", 1), result("R2", 2)]),  # another language, same tool
        run("tfsec", [result("R2", 3, kind="pass")], invocations=[{"machine": "build-7"}]),
    )
    ingest("--format", "sarif", log, "--endpoint-url", open_server.url, "--any-resource-id",
           tenant=tenant)  # fmt: skip
    ssm = make_client(open_server, tenant)
    # invocations[].machine names the node, for a tool's runs if any one of them names it.
    rows = {r["ComplianceType"]: r for r in list_resource_summaries(ssm)}
    assert set(rows) == {"Custom:checkov", "Custom:tfsec"}
    assert {r["ResourceId"] for r in rows.values()} == {"build-7"}
    ids = sorted(
        i["Id"] for i in list_items(ssm, "build-7") if i["ComplianceType"] == "Custom:checkov"
    )
    assert ids == ["R1:src/app.js:1", "R1:src/app.js:1:3", "R2:src/app.js:2"]
    assert rows["Custom:tfsec"]["Status"] == "COMPLIANT"


def test_logs_that_are_not_sarif_2_1_0(tmp_path: Path) -> None:
    old = tmp_path / "old.sarif"
    old.write_text(json.dumps({"version": "1.0.0", "runs": []}))
    assert (
        "SARIF version '1.0.0' is not supported"
        in ingest(
            "--format", "sarif", old, "--resource-id", new_instance_id(), "--dry-run", code=1
        ).stderr
    )
    nameless = write(tmp_path / "nameless.sarif", {"tool": {"driver": {}}, "results": []})
    assert (
        "run 1: has no tool.driver.name"
        in ingest(
            "--format", "sarif", nameless, "--resource-id", new_instance_id(), "--dry-run", code=1
        ).stderr
    )
