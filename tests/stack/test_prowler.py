"""Prowler's ssm service against the composed stack: complyd for SSM, moto's server behind it.

Prowler's SSM service calls ListDocuments, GetDocument, DescribeDocumentPermission,
ListResourceComplianceSummaries and DescribeInstanceInformation on one SSM endpoint. The real
Prowler runs when COMPLYD_TEST_PROWLER names its executable (`.ci/run` installs it in a venv
of its own, as it pins its own boto3); the same call sequence is also replayed through boto3.
moto's server does not implement DescribeInstanceInformation and answers it with an HTML 500
page; complyd passes that answer on as it is, and both tests check that it is moto's.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from complyd.testing import ComplydProcess, run_server
from tests.api.reference import entry, put
from tests.conftest import IN_CI

from .conftest import ACCOUNT, REGION, Moto, ssm_client

PROWLER = os.environ.get("COMPLYD_TEST_PROWLER", "")
PROWLER_TIMEOUT_S = 600
FAILING, PASSING = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"
DOCUMENT = json.dumps(
    {
        "schemaVersion": "2.2",
        "description": "Rotates the logs",
        "mainSteps": [
            {"action": "aws:runShellScript", "name": "rotate", "inputs": {"runCommand": ["true"]}}
        ],
    }
)


@pytest.fixture
def stack(moto: Moto) -> Iterator[ComplydProcess]:
    with run_server("--upstream", moto.url, memory=True) as complyd:
        ssm = ssm_client(complyd.url)
        ssm.create_document(Name="RotateLogs", Content=DOCUMENT, DocumentType="Command")
        put(ssm, FAILING, "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT")])
        put(ssm, PASSING, "Patch", [entry("KB1", "CRITICAL", "COMPLIANT")])
        yield complyd


def moto_answer_to_describe_instance_information(moto: Moto) -> tuple[int, str]:
    with pytest.raises(ClientError) as direct:
        ssm_client(moto.url).describe_instance_information()
    return direct.value.response["ResponseMetadata"]["HTTPStatusCode"], str(direct.value)


def test_prowlers_call_sequence_replayed(stack: ComplydProcess, moto: Moto) -> None:
    ssm = ssm_client(stack.url)
    documents = [
        d
        for page in ssm.get_paginator("list_documents").paginate(
            Filters=[{"Key": "Owner", "Values": ["Self"]}]
        )
        for d in page["DocumentIdentifiers"]
    ]
    assert [d["Name"] for d in documents] == ["RotateLogs"]
    for document in documents:
        content = json.loads(ssm.get_document(Name=document["Name"])["Content"])
        assert content == json.loads(DOCUMENT)
        shared = ssm.describe_document_permission(Name=document["Name"], PermissionType="Share")
        assert shared["AccountIds"] == []
    summaries = [
        (row["ResourceId"], row["Status"])
        for page in ssm.get_paginator("list_resource_compliance_summaries").paginate()
        for row in page["ResourceComplianceSummaryItems"]
    ]
    assert summaries == [(FAILING, "NON_COMPLIANT"), (PASSING, "COMPLIANT")]
    with pytest.raises(ClientError) as raised:
        for _page in ssm.get_paginator("describe_instance_information").paginate():
            pass
    got = raised.value.response["ResponseMetadata"]["HTTPStatusCode"], str(raised.value)
    assert got == moto_answer_to_describe_instance_information(moto)


def _prowler_findings(out: Path) -> dict[tuple[str, str], str]:
    [report] = out.glob("*.ocsf.json")
    findings: list[dict[str, Any]] = json.loads(report.read_text())
    return {
        (f["metadata"]["event_code"], f["resources"][0]["uid"]): f["status_code"] for f in findings
    }


def test_real_prowler_ssm_checks(stack: ComplydProcess, moto: Moto, tmp_path: Path) -> None:
    if not PROWLER:
        if IN_CI:
            pytest.fail("CI=true but COMPLYD_TEST_PROWLER does not name Prowler (see .ci/run)")
        pytest.skip("set COMPLYD_TEST_PROWLER to a prowler executable to run Prowler")
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": ACCOUNT,
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # The composed stack: moto for everything, complyd for SSM.
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ENDPOINT_URL_SSM": stack.url,
    }
    command = [PROWLER, "aws", "--service", "ssm", "--region", REGION, "--no-banner"]
    command += ["--log-level", "ERROR", "-M", "json-ocsf", "-o", str(out), "--ignore-exit-code-3"]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=PROWLER_TIMEOUT_S
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    ssm_errors = [line for line in log.splitlines() if "ssm_service" in line and "ERROR" in line]
    # The one SSM error is moto's answer to the operation it does not implement.
    assert len(ssm_errors) == 1, ssm_errors
    assert "(500) when calling the DescribeInstanceInformation operation" in ssm_errors[0]
    for name in ("UnknownOperationException", "UpstreamUnavailable", "UpstreamTimeout"):
        assert name not in log
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    document = f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/RotateLogs"
    assert _prowler_findings(out) == {
        ("ssm_managed_compliant_patching", arn + FAILING): "FAIL",
        ("ssm_managed_compliant_patching", arn + PASSING): "PASS",
        ("ssm_documents_set_as_public", document): "PASS",
        ("ssm_document_secrets", document): "PASS",
    }
