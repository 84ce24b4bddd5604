"""The AWS CLI (v1, from the venv) talks to complyd end to end, paging included."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .harness import Server, new_instance_id, new_tenant
from .reference import T0, T0_EPOCH

# The AWS CLI runs in a process of its own and dials the server's URL.
pytestmark = pytest.mark.process

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture
def aws(server: Server, tmp_path: Path) -> Any:
    if not AWS.exists():
        pytest.fail(f"the AWS CLI is not installed next to {sys.executable}")
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[default]\n")
    credentials.write_text("[default]\n")
    tenant = new_tenant("us-west-2")
    env = {
        "PATH": str(AWS.parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": tenant.account,
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": tenant.region,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    }

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(AWS), "ssm", *args, "--endpoint-url", server.url, "--output", "json"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if ok:
            assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        return done

    return run


def as_epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def test_put_and_list_with_the_cli(aws: Any) -> None:
    rid = new_instance_id()
    items = [
        {
            "Id": f"id{i}",
            "Title": f"title {i}",
            "Severity": "HIGH",
            "Status": "NON_COMPLIANT" if i == 0 else "COMPLIANT",
            "Details": {"PatchGroup": "web"},
        }
        for i in range(3)
    ]
    aws(
        "put-compliance-items",
        "--resource-id",
        rid,
        "--resource-type",
        "ManagedInstance",
        "--compliance-type",
        "Custom:cli",
        "--execution-summary",
        f"ExecutionTime={T0.strftime('%Y-%m-%dT%H:%M:%SZ')},ExecutionId=cli-1",
        "--items",
        json.dumps(items),
    )

    listed = json.loads(
        aws(
            "list-compliance-items",
            "--resource-ids",
            rid,
            "--resource-types",
            "ManagedInstance",
            "--page-size",
            "1",
        ).stdout
    )
    got = listed["ComplianceItems"]
    assert [it["Id"] for it in got] == ["id0", "id1", "id2"]
    assert got[0]["Details"] == {"PatchGroup": "web"}
    assert got[0]["ExecutionSummary"]["ExecutionId"] == "cli-1"
    assert as_epoch(got[0]["ExecutionSummary"]["ExecutionTime"]) == T0_EPOCH

    rows = json.loads(
        aws(
            "list-resource-compliance-summaries",
            "--filters",
            "Key=ComplianceType,Values=Custom:cli,Type=EQUAL",
        ).stdout
    )
    [row] = rows["ResourceComplianceSummaryItems"]
    assert (row["ResourceId"], row["Status"], row["OverallSeverity"]) == (
        rid,
        "NON_COMPLIANT",
        "HIGH",
    )
    assert row["CompliantSummary"]["CompliantCount"] == 2
    assert row["NonCompliantSummary"]["NonCompliantCount"] == 1

    fleet = json.loads(aws("list-compliance-summaries", "--page-size", "1").stdout)
    names = [r["ComplianceType"] for r in fleet["ComplianceSummaryItems"]]
    assert names == ["FleetTotal", "Custom:cli"]


def test_cli_reports_aws_errors(aws: Any) -> None:
    done = aws(
        "put-compliance-items",
        "--resource-id",
        "not-a-node",
        "--resource-type",
        "ManagedInstance",
        "--compliance-type",
        "Custom:cli",
        "--execution-summary",
        "ExecutionTime=2024-01-01T00:00:00Z",
        "--items",
        "Id=a,Severity=LOW,Status=COMPLIANT",
        ok=False,
    )
    assert done.returncode != 0
    assert "InvalidResourceId" in done.stderr
    done = aws("list-compliance-items", "--filters", "Key=Nope,Values=x", ok=False)
    assert done.returncode != 0 and "InvalidFilter" in done.stderr
