"""What forwarding passes on, what it leaves to the upstream, and how it fails.

A recording endpoint stands in for the upstream, so the tests see exactly the bytes complyd
sent on and can make the upstream answer anything, slowly, or not at all.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from complyd.testing import ComplydProcess, run_server
from complyd.testing.server import free_port
from tests.api.harness import raw_request
from tests.api.reference import entry, list_items, put

from .conftest import serve_refused, ssm_client
from .upstream_double import Answer, RecordingUpstream

NODE = "i-0123456789abcdef0"
COMPLIANCE_TARGETS = {
    "AmazonSSM.PutComplianceItems",
    "AmazonSSM.ListComplianceItems",
    "AmazonSSM.ListComplianceSummaries",
    "AmazonSSM.ListResourceComplianceSummaries",
}


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def complyd_before_recorder(recorder: RecordingUpstream) -> Iterator[ComplydProcess]:
    options = ("--upstream", recorder.url + "/", "--max-body-size", "2000")
    with run_server(*options, "--upstream-timeout", "1", memory=True) as server:
        yield server


@pytest.fixture
def complyd(complyd_before_recorder: ComplydProcess, recorder: RecordingUpstream) -> ComplydProcess:
    complyd_before_recorder.reset()
    recorder.clear()
    return complyd_before_recorder


def _post(
    port: int, path: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def test_the_request_goes_on_as_the_client_sent_it(
    complyd: ComplydProcess, recorder: RecordingUpstream
) -> None:
    body = b'{"Name": "/app/db-password", "WithDecryption": true}'
    sent = [
        ("Host", f"127.0.0.1:{complyd.port}"),
        ("X-Amz-Target", "AmazonSSM.GetParameter"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Date", "20260101T000000Z"),
        ("X-Amz-Security-Token", "session-token"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDNOTCOMPLYDS/20260101/eu-west-1/ssm/aws4_request, "
            "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123abcd",
        ),
        ("X-Custom", "one"),
        ("X-Custom", "two"),
        ("Keep-Alive", "timeout=5"),
    ]
    status, _headers, _content = _post(complyd.port, "/?trace=1", sent, body)
    assert status == 200
    [got] = recorder.received
    assert (got.method, got.path, got.body) == ("POST", "/?trace=1", body)
    for name, value in sent:
        if name != "Keep-Alive":
            assert value in got.header(name), name
    assert got.header("X-Custom") == ["one", "two"]
    # Hop-by-hop headers describe the client's connection to complyd, not complyd's to it.
    assert got.header("Keep-Alive") == []


def test_the_answer_comes_back_as_the_upstream_sent_it(
    complyd: ComplydProcess, recorder: RecordingUpstream
) -> None:
    body = b'{"__type": "ParameterVersionNotFound", "message": "Version 7 is gone."}'
    recorder.answer = Answer(
        status=409,
        headers=[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", "upstream-request-1"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
        body=body,
    )
    status, headers, content = _post(
        complyd.port, "/", [("X-Amz-Target", "AmazonSSM.GetParameterHistory")], b"{}"
    )
    assert (status, content) == (409, body)
    assert [v for k, v in headers if k.lower() == "x-amzn-requestid"] == ["upstream-request-1"]
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    assert [v for k, v in headers if k.lower() == "content-length"] == [str(len(body))]
    assert len([v for k, v in headers if k.lower() == "date"]) == 1


def test_compliance_calls_never_leave_complyd(
    complyd: ComplydProcess, recorder: RecordingUpstream
) -> None:
    ssm = ssm_client(complyd.url)
    put(ssm, NODE, "Custom:Disk", [entry("root", "HIGH", "NON_COMPLIANT")])
    assert [i["Id"] for i in list_items(ssm, NODE)] == ["root"]
    ssm.list_compliance_summaries()
    ssm.list_resource_compliance_summaries()
    with pytest.raises(ClientError) as raised:
        ssm.list_compliance_items(ResourceIds=["not-a-node"])
    assert raised.value.response["Error"]["Code"] == "InvalidResourceId"
    ssm.describe_parameters()
    targets = [r.header("X-Amz-Target") for r in recorder.received]
    assert targets == [["AmazonSSM.DescribeParameters"]]
    assert not COMPLIANCE_TARGETS & {t for ts in targets for t in ts}


def test_requests_without_a_target_go_upstream_too(
    complyd: ComplydProcess, recorder: RecordingUpstream
) -> None:
    status, _headers, _content = _post(
        complyd.port,
        "/",
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    assert status == 200
    [got] = recorder.received
    assert got.body == b"Action=GetCallerIdentity&Version=2011-06-15"


def test_the_body_cap_is_complyds_own(complyd: ComplydProcess, recorder: RecordingUpstream) -> None:
    # complyd here accepts bodies of 2,000 bytes: a larger forwarded call is the upstream's
    # business and goes through whole, a compliance call that large is refused.
    big = json.dumps({"Name": "/big", "Value": "x" * 5000, "Type": "String"}).encode()
    status, _h, _c = _post(complyd.port, "/", [("X-Amz-Target", "AmazonSSM.PutParameter")], big)
    assert status == 200
    assert recorder.received[-1].body == big
    refused = raw_request(complyd.url, "AmazonSSM.PutComplianceItems", big)
    assert (refused.status, refused.error_type) == (413, "RequestEntityTooLargeException")


def test_an_unreachable_upstream_is_named_in_a_502() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with run_server("--upstream", closed, "--upstream-timeout", "2", memory=True) as server:
        ssm = ssm_client(server.url)
        started = time.monotonic()
        with pytest.raises(ClientError) as raised:
            ssm.list_documents()
        elapsed = time.monotonic() - started
        # Compliance calls do not need the upstream.
        put(ssm, NODE, "Patch", [entry("KB1", "LOW", "COMPLIANT")])
        assert [i["Id"] for i in list_items(ssm, NODE)] == ["KB1"]
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert error["Error"]["Code"] == "UpstreamUnavailableException"
    assert closed in error["Error"]["Message"]
    assert "AmazonSSM.ListDocuments" in error["Error"]["Message"]
    assert elapsed < 10


def test_a_slow_upstream_is_cut_off_at_the_timeout(
    complyd: ComplydProcess, recorder: RecordingUpstream
) -> None:
    recorder.answer = Answer(delay_s=6.0)
    ssm = ssm_client(complyd.url)
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        ssm.describe_instance_information()
    elapsed = time.monotonic() - started
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 504
    assert error["Error"]["Code"] == "UpstreamTimeoutException"
    assert recorder.url in error["Error"]["Message"]
    assert "within 1 s" in error["Error"]["Message"]
    # complyd answered at its 1 s timeout, well before the upstream's 6 s answer.
    assert 0.9 <= elapsed < 5


def _credentials(directory: Path) -> Path:
    path = directory / "credentials.toml"
    path.write_text(
        '[[keys]]\naccess_key_id = "AKIDCOMPLYDWRITER01"\n'
        'secret_access_key = "writer-secret-0123456789"\naccount_id = "111111111111"\n'
    )
    return path


def test_forwarded_calls_are_not_authenticated_or_throttled_by_complyd(
    recorder: RecordingUpstream, tmp_path: Path
) -> None:
    recorder.clear()
    options = ("--credentials", str(_credentials(tmp_path)), "--upstream", recorder.url)
    with run_server(*options, "--rate-limit", "0.1", "--rate-burst", "1", memory=True) as server:
        stranger = ssm_client(server.url, "AKIDNOTINCOMPLYD0001", secret="upstream-secret")
        for _ in range(4):
            stranger.describe_parameters()
        with pytest.raises(ClientError) as unknown_key:
            stranger.list_compliance_summaries()
        writer = ssm_client(server.url, "AKIDCOMPLYDWRITER01", secret="writer-secret-0123456789")
        writer.list_compliance_summaries()
        with pytest.raises(ClientError) as throttled:
            writer.list_compliance_summaries()
        for _ in range(3):
            writer.describe_parameters()
    assert len(recorder.received) == 7
    assert all(
        "AKIDNOTINCOMPLYD0001/" in r.header("Authorization")[0] for r in recorder.received[:4]
    )
    assert unknown_key.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"


def test_upstream_must_be_an_http_url(tmp_path: Path) -> None:
    stderr = serve_refused(tmp_path, "--upstream", "moto:5000")
    assert "--upstream" in stderr and "'moto:5000' is not an http(s) URL" in stderr
