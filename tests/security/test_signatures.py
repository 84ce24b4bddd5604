"""With keys configured, only correctly signed requests from known keys get through."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from typing import Any

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.harness import Server

from .conftest import KEYS, READER_A, WRITER_A, WRITER_B, client

NODE = "i-0123456789abcdef0"


def put_body(title: str = "ok") -> dict[str, Any]:
    return {
        "ResourceId": NODE,
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:Signed",
        "ExecutionSummary": {"ExecutionTime": 1_700_000_000},
        "Items": [{"Id": "a", "Title": title, "Severity": "LOW", "Status": "COMPLIANT"}],
    }


def signed(
    server: Server,
    key_id: str,
    body: bytes,
    target: str = "PutComplianceItems",
    secret: str | None = None,
    region: str = "us-east-1",
) -> AWSRequest:
    request = AWSRequest(
        "POST",
        server.url + "/",
        data=body,
        headers={
            "X-Amz-Target": f"AmazonSSM.{target}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    creds = Credentials(key_id, secret if secret is not None else KEYS[key_id][0])
    SigV4Auth(creds, "ssm", region).add_auth(request)
    return request


def send(server: Server, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_right_secret_is_accepted_and_wrong_secret_refused(keyed_server: Server) -> None:
    ssm = client(keyed_server, WRITER_A)
    ssm.put_compliance_items(**put_body())
    assert ssm.list_compliance_items(ResourceIds=[NODE])["ComplianceItems"][0]["Id"] == "a"
    with pytest.raises(ClientError) as info:
        client(keyed_server, WRITER_A, "not-the-secret-0123456789").list_compliance_items()
    assert error_code(info) == "InvalidSignatureException"
    assert "signature we calculated does not match" in str(info.value)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_key_is_unrecognized(keyed_server: Server) -> None:
    with pytest.raises(ClientError) as info:
        client(keyed_server, "AKIDNOBODY0000000001", "whatever-secret-0123").list_compliance_items()
    assert error_code(info) == "UnrecognizedClientException"


def test_altered_body_after_signing_is_refused(keyed_server: Server) -> None:
    original = json.dumps(put_body("signed")).encode()
    request = signed(keyed_server, WRITER_A, original)
    tampered = json.dumps(put_body("tampered")).encode()
    headers = dict(request.headers)
    status, body = send(keyed_server, headers, tampered)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    titles = [
        i.get("Title")
        for i in client(keyed_server, WRITER_A).list_compliance_items(ResourceIds=[NODE])[
            "ComplianceItems"
        ]
    ]
    assert "tampered" not in titles
    assert send(keyed_server, headers, original)[0] == 200


def test_altered_signed_header_is_refused(keyed_server: Server) -> None:
    request = signed(keyed_server, WRITER_A, b"{}", target="ListComplianceItems")
    headers = dict(request.headers)
    headers["X-Amz-Target"] = "AmazonSSM.ListComplianceSummaries"
    status, body = send(keyed_server, headers, b"{}")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


@pytest.mark.parametrize("minutes,word", [(-20, "earlier"), (20, "later")])
def test_skewed_clock_is_an_expired_signature(
    keyed_server: Server, monkeypatch: pytest.MonkeyPatch, minutes: int, word: str
) -> None:
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    with pytest.raises(ClientError) as info:
        client(keyed_server, WRITER_A).list_compliance_items()
    assert error_code(info) == "InvalidSignatureException"
    assert "Signature expired" in str(info.value) and f"is now {word} than" in str(info.value)


def test_small_skew_is_tolerated(keyed_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    assert "ComplianceItems" in client(keyed_server, WRITER_A).list_compliance_items()


def test_missing_and_malformed_authorization(keyed_server: Server) -> None:
    request = signed(keyed_server, WRITER_A, b"{}", target="ListComplianceItems")
    headers = dict(request.headers)
    del headers["Authorization"]
    status, body = send(keyed_server, headers, b"{}")
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    for bad in (
        "AWS4-HMAC-SHA256 Credential=AKIDWRITERA000000001/20260101/us-east-1/ssm/aws4_request",
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=ab",
    ):
        headers["Authorization"] = bad
        status, body = send(keyed_server, headers, b"{}")
        assert (status, body["__type"]) == (400, "IncompleteSignatureException"), bad
        assert body["message"]


def test_read_only_key_lists_but_cannot_put(keyed_server: Server) -> None:
    client(keyed_server, WRITER_A).put_compliance_items(**put_body())
    reader = client(keyed_server, READER_A)
    assert reader.list_compliance_items(ResourceIds=[NODE])["ComplianceItems"]
    with pytest.raises(ClientError) as info:
        reader.put_compliance_items(**put_body("from reader"))
    assert error_code(info) == "AccessDeniedException"
    assert "is not authorized to perform: ssm:PutComplianceItems" in str(info.value)


def test_accounts_and_regions_do_not_see_each_other(keyed_server: Server) -> None:
    node = "i-0000000000000abcd"
    body = put_body() | {"ResourceId": node}
    client(keyed_server, WRITER_A, region="eu-west-1").put_compliance_items(**body)
    seen = client(keyed_server, WRITER_A, region="eu-west-1").list_compliance_items(
        ResourceIds=[node]
    )
    assert len(seen["ComplianceItems"]) == 1
    for other in (
        client(keyed_server, WRITER_B, region="eu-west-1"),
        client(keyed_server, WRITER_A, region="ap-south-1"),
        client(keyed_server, WRITER_B, region="ap-south-1"),
    ):
        assert other.list_compliance_items(ResourceIds=[node])["ComplianceItems"] == []
        rows = other.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
        assert node not in {r["ResourceId"] for r in rows}


def test_secrets_never_reach_the_log(keyed_server: Server) -> None:
    client(keyed_server, WRITER_A).list_compliance_items()
    try:
        client(keyed_server, WRITER_A, "a-wrong-secret-value-xyz").list_compliance_items()
    except ClientError:
        pass
    log = "".join(p.read_text(errors="replace") for p in keyed_server.log_dir.glob("*.stderr"))
    assert " DEBUG " in log  # the most talkative level really was on
    for secret in [s for s, _, _ in KEYS.values()] + ["a-wrong-secret-value-xyz"]:
        assert secret not in log
