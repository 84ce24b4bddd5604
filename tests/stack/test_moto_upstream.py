"""One SSM endpoint for a whole tool: complyd serves compliance and forwards the rest to moto.

Every test talks to complyd only (one `endpoint_url`), then checks where each call landed by
asking moto's server and complyd directly.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from complyd.testing import ComplydProcess, run_server
from tests.api.reference import entry, list_items, put

from .conftest import ACCOUNT, REGION, Moto, ssm_client

NODE = "i-0123456789abcdef0"
DOCUMENT = json.dumps(
    {
        "schemaVersion": "2.2",
        "description": "Prints hello",
        "mainSteps": [
            {"action": "aws:runShellScript", "name": "hello", "inputs": {"runCommand": ["echo"]}}
        ],
    }
)


@pytest.fixture(scope="module")
def complyd_before_moto(moto_session: Moto) -> Iterator[ComplydProcess]:
    with run_server("--upstream", moto_session.url, memory=True) as server:
        yield server


@pytest.fixture
def complyd(complyd_before_moto: ComplydProcess, moto: Moto) -> ComplydProcess:
    complyd_before_moto.reset()
    return complyd_before_moto


def test_parameters_documents_and_compliance_share_one_endpoint(
    complyd: ComplydProcess, moto: Moto
) -> None:
    ssm = ssm_client(complyd.url)
    ssm.put_parameter(Name="/scanner/enabled", Value="true", Type="String")
    ssm.create_document(Name="Hello", Content=DOCUMENT, DocumentType="Command")
    put(ssm, NODE, "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT")])

    assert ssm.get_parameter(Name="/scanner/enabled")["Parameter"]["Value"] == "true"
    owned = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])
    assert [d["Name"] for d in owned["DocumentIdentifiers"]] == ["Hello"]
    assert json.loads(ssm.get_document(Name="Hello")["Content"]) == json.loads(DOCUMENT)
    [item] = list_items(ssm, NODE)
    assert (item["Id"], item["Status"]) == ("KB1", "NON_COMPLIANT")

    # The parameter and the document are moto's: asked directly, moto has them.
    direct = ssm_client(moto.url)
    assert direct.get_parameter(Name="/scanner/enabled")["Parameter"]["Value"] == "true"
    assert [d["Name"] for d in direct.list_documents()["DocumentIdentifiers"]] == ["Hello"]
    # The compliance data is complyd's: emptying complyd alone removes it, moto keeps its own.
    complyd.reset()
    assert list_items(ssm, NODE) == []
    assert ssm.get_parameter(Name="/scanner/enabled")["Parameter"]["Value"] == "true"


def test_upstream_errors_reach_the_client_as_the_upstream_sent_them(
    complyd: ComplydProcess,
) -> None:
    ssm = ssm_client(complyd.url)
    with pytest.raises(ssm.exceptions.ParameterNotFound) as raised:
        ssm.get_parameter(Name="/missing")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _signed(url: str, target: str, body: bytes) -> AWSRequest:
    request = AWSRequest(
        "POST",
        url + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(ACCOUNT, "local"), "ssm", REGION).add_auth(request)
    return request


def _send(port: int, request: AWSRequest) -> tuple[int, dict[str, list[str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body=request.body, headers=dict(request.headers.items()))
        response = conn.getresponse()
        headers: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return response.status, headers, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("AmazonSSM.GetParameter", {"Name": "/not/there"}),
        ("AmazonSSM.DescribeDocumentPermission", {"Name": "Missing", "PermissionType": "Share"}),
        # moto's server does not implement this one: its 500 page comes through as it is.
        ("AmazonSSM.DescribeInstanceInformation", {}),
    ],
)
def test_status_headers_and_body_are_the_upstreams(
    complyd: ComplydProcess, moto: Moto, target: str, body: dict[str, Any]
) -> None:
    raw = json.dumps(body).encode()
    status, headers, content = _send(complyd.port, _signed(complyd.url, target, raw))
    direct_status, direct_headers, direct_content = _send(moto.port, _signed(moto.url, target, raw))
    assert (status, content) == (direct_status, direct_content)
    # Date and Server are stamped by each HTTP server, Connection is about one connection only,
    # and moto makes a new request id for every call; everything else is moto's, as it sent it.
    for name in ("date", "server"):
        assert len(headers.pop(name)) == 1
        direct_headers.pop(name, None)
    direct_headers.pop("connection", None)
    ids, direct_ids = (
        headers.pop("x-amzn-requestid", []),
        direct_headers.pop("x-amzn-requestid", []),
    )
    assert len(ids) == len(direct_ids) <= 1
    assert headers == direct_headers


def _metrics(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        text: str = resp.read().decode()
        return text


def test_compliance_calls_are_counted_by_complyd_and_the_rest_as_forwarded(
    complyd: ComplydProcess,
) -> None:
    ssm = ssm_client(complyd.url)
    put(ssm, NODE, "Custom:Disk", [entry("root", "HIGH", "NON_COMPLIANT")])
    ssm.list_documents()
    ssm.list_documents()
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name="/missing")
    metrics = _metrics(complyd.url)
    assert 'complyd_requests_total{code="OK",operation="PutComplianceItems"}' in metrics
    assert 'complyd_requests_total{code="400",operation="unknown"}' in metrics
    forwarded = [
        line
        for line in metrics.splitlines()
        if line.startswith('complyd_requests_total{code="OK",operation="unknown"}')
    ]
    assert forwarded and float(forwarded[0].split()[-1]) >= 2


def test_without_upstream_other_operations_stay_unknown() -> None:
    with run_server(memory=True) as server:
        ssm = ssm_client(server.url)
        with pytest.raises(ClientError) as raised:
            ssm.list_documents()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ListDocuments" in raised.value.response["Error"]["Message"]
