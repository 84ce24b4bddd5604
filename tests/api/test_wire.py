"""Spec section 2: the AWS JSON 1.1 wire protocol, seen as raw HTTP and through boto3."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import JSON11, Api, Server, new_instance_id, raw_request
from .reference import T0_EPOCH, entry, list_items, put

PUT = "PutComplianceItems"


def put_body(resource_id: str, when: float = T0_EPOCH, **extra: Any) -> dict[str, Any]:
    return {
        "ResourceId": resource_id,
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:wire",
        "ExecutionSummary": {"ExecutionTime": when},
        "Items": [{"Id": "a", "Severity": "HIGH", "Status": "COMPLIANT"}],
        **extra,
    }


def assert_request_id(headers: dict[str, str]) -> str:
    rid = headers.get("x-amzn-requestid", "")
    uuid.UUID(rid)  # raises if not a uuid
    return rid


@pytest.mark.process  # raw HTTP to the server's URL, which no botocore hook sees
def test_healthz(server: Server) -> None:
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as resp:
        assert resp.status == 200


def test_successful_put_returns_empty_object(api: Api) -> None:
    resp = api.call(PUT, put_body(new_instance_id()))
    assert resp.status == 200
    assert resp.body == {}
    assert resp.headers["content-type"].startswith(JSON11)
    assert_request_id(resp.headers)


def test_request_ids_differ_between_requests(api: Api) -> None:
    first = api.call("ListResourceComplianceSummaries", {})
    second = api.call("ListResourceComplianceSummaries", {})
    assert assert_request_id(first.headers) != assert_request_id(second.headers)


def test_error_shape(api: Api) -> None:
    resp = api.error(PUT, put_body("not-an-instance"))
    assert resp.error_type == "InvalidResourceId"
    assert resp.headers["content-type"].startswith(JSON11)
    assert_request_id(resp.headers)


@pytest.mark.process  # raw HTTP to the server's URL, which no botocore hook sees
def test_application_json_is_accepted(server: Server, api: Api) -> None:
    resp = raw_request(
        server.url,
        f"AmazonSSM.{PUT}",
        put_body(new_instance_id()),
        access_key=api.tenant.account,
        content_type="application/json",
    )
    assert resp.status == 200 and resp.body == {}


def test_empty_body_means_empty_object(api: Api) -> None:
    listed = api.call("ListResourceComplianceSummaries", b"")
    assert listed.status == 200
    assert listed.body.get("ResourceComplianceSummaryItems", []) == []
    assert "NextToken" not in listed.body
    items = api.call("ListComplianceItems", b"")
    assert items.status == 200 and items.body.get("ComplianceItems", []) == []
    # An empty put is a put with every required member missing.
    bad = api.error(PUT, b"")
    assert bad.error_type == "ValidationException"
    assert bad.message.startswith("5 validation errors detected: ")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[]", b'"text"', b"42"])
def test_body_that_is_not_a_json_object_is_a_serialization_error(api: Api, body: bytes) -> None:
    assert api.error(PUT, body).error_type == "SerializationException"


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        (PUT, {**put_body("i-12345678"), "Items": "not a list"}),
        (PUT, {**put_body("i-12345678"), "ResourceId": 12345678}),
        (PUT, {**put_body("i-12345678"), "ExecutionSummary": "yesterday"}),
        (PUT, {**put_body("i-12345678"), "Items": [{"Severity": 1, "Status": "COMPLIANT"}]}),
        (
            PUT,
            {
                **put_body("i-12345678"),
                "Items": [{"Severity": "LOW", "Status": "COMPLIANT", "Details": ["x"]}],
            },
        ),
        ("ListComplianceItems", {"MaxResults": "5"}),
        ("ListComplianceItems", {"MaxResults": True}),
        ("ListComplianceItems", {"ResourceIds": "i-12345678"}),
        ("ListComplianceSummaries", {"Filters": {"Key": "Status"}}),
        ("ListResourceComplianceSummaries", {"Filters": [{"Key": "Status", "Values": "x"}]}),
    ],
    ids=[
        "items-str",
        "id-int",
        "summary-str",
        "severity-int",
        "details-list",
        "max-str",
        "max-bool",
        "ids-str",
        "filters-obj",
        "values-str",
    ],
)
def test_wrong_member_type_is_a_serialization_error(
    api: Api, operation: str, body: dict[str, Any]
) -> None:
    assert api.error(operation, body).error_type == "SerializationException"


@pytest.mark.process  # raw HTTP to the server's URL, which no botocore hook sees
def test_unknown_target(api: Api, server: Server) -> None:
    resp = api.error("DescribeInstanceInformation", {})
    assert resp.error_type == "UnknownOperationException"
    assert_request_id(resp.headers)
    other = raw_request(server.url, "SomethingElse.PutComplianceItems", {})
    assert other.status == 400 and other.error_type == "UnknownOperationException"


@pytest.mark.process  # raw HTTP to the server's URL, which no botocore hook sees
def test_missing_authorization(server: Server) -> None:
    resp = raw_request(server.url, f"AmazonSSM.{PUT}", put_body("i-12345678"), auth=False)
    assert resp.status == 400
    assert resp.error_type == "MissingAuthenticationTokenException"
    assert_request_id(resp.headers)


def test_execution_time_keeps_milliseconds(api: Api) -> None:
    rid = new_instance_id()
    api.ok(PUT, put_body(rid, when=1550408470.123))
    raw = api.call("ListComplianceItems", {"ResourceIds": [rid]})
    item = raw.body["ComplianceItems"][0]
    sent = item["ExecutionSummary"]["ExecutionTime"]
    assert isinstance(sent, (int, float)) and not isinstance(sent, bool)
    assert sent == pytest.approx(1550408470.123, abs=1e-6)
    rows = api.ok(
        "ListResourceComplianceSummaries", {"Filters": [{"Key": "ResourceId", "Values": [rid]}]}
    )
    when = rows["ResourceComplianceSummaryItems"][0]["ExecutionSummary"]["ExecutionTime"]
    assert when == pytest.approx(1550408470.123, abs=1e-6)


def test_integer_execution_time_comes_back_as_a_number(api: Api) -> None:
    rid = new_instance_id()
    api.ok(PUT, put_body(rid, when=1550408470))
    body = api.ok("ListComplianceItems", {"ResourceIds": [rid]})
    sent = body["ComplianceItems"][0]["ExecutionSummary"]["ExecutionTime"]
    assert isinstance(sent, (int, float)) and sent == 1550408470


def test_boto3_round_trip_with_unicode(ssm: Any) -> None:
    rid = new_instance_id()
    details = {"DocumentName": "Düsseldorf ✓", "Note": '日本語 "quoted" \\ back'}
    assert put(ssm, rid, "Custom:wire", [entry("ü-1", "MEDIUM", title="Tïtle ✓", details=details)])[
        "ResponseMetadata"
    ]
    [item] = list_items(ssm, rid)
    assert item["Id"] == "ü-1" and item["Title"] == "Tïtle ✓"
    assert item["Details"] == details


def test_boto3_put_response_is_empty(ssm: Any) -> None:
    resp = put(ssm, new_instance_id(), "Custom:wire", [entry("a")])
    assert {k: v for k, v in resp.items() if k != "ResponseMetadata"} == {}
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    uuid.UUID(resp["ResponseMetadata"]["RequestId"])


def test_boto3_reads_error_code_from_type(ssm: Any) -> None:
    with pytest.raises(ClientError) as info:
        put(ssm, new_instance_id(), "Custom:wire", [entry("a")], resource_type="Document")
    assert info.value.response["Error"]["Code"] == "InvalidResourceType"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_error_body_is_not_a_traceback(api: Api) -> None:
    resp = api.error(PUT, b"{not json")
    text = resp.raw.decode(errors="replace")
    assert "Traceback" not in text and 'File "' not in text
    assert set(json.loads(text)) <= {"__type", "message", "Message"}
