"""Spec section 3: the server enforces every model constraint, in AWS's message format.

Raw HTTP is used throughout, because botocore would refuse to send most of these requests.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import Api, RawResponse
from .reference import T0_EPOCH

PUT = "PutComplianceItems"
LISTS = ("ListComplianceItems", "ListComplianceSummaries", "ListResourceComplianceSummaries")
PATTERN = r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$"
SEVERITY_SET = "[CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]"
OPERATOR_SET = "[EQUAL, NOT_EQUAL, BEGIN_WITH, LESS_THAN, GREATER_THAN]"
NOT_NULL = "Member must not be null"


def at_most(n: int) -> str:
    return f"Member must have length less than or equal to {n}"


def at_least(n: int) -> str:
    return f"Member must have length greater than or equal to {n}"


def violation(value: str | None, path: str, phrase: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {phrase}"


def tail(path: str, phrase: str) -> str:
    """The part of a violation after the value, for values AWS may render differently."""
    return f"at '{path}' failed to satisfy constraint: {phrase}"


def good_put(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ResourceId": "i-0123456789abcdef0",
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:valid",
        "ExecutionSummary": {"ExecutionTime": T0_EPOCH},
        "Items": [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def items(n: int, **changes: Any) -> list[dict[str, Any]]:
    out = [{"Id": str(i), "Severity": "LOW", "Status": "COMPLIANT"} for i in range(n)]
    out[-1].update(changes)
    return out


def parts_of(resp: RawResponse) -> tuple[int, list[str]]:
    assert resp.error_type == "ValidationException", resp.raw
    head, _, rest = resp.message.partition(" detected: ")
    count = int(head.split(" ")[0])
    noun = "validation error" if count == 1 else "validation errors"
    assert head == f"{count} {noun}", resp.message
    return count, rest.split("; ")


def assert_exact(resp: RawResponse, *expected: str) -> None:
    count, parts = parts_of(resp)
    assert count == len(expected) == len(parts), resp.message
    assert sorted(parts) == sorted(expected), resp.message


def assert_contains(resp: RawResponse, *fragments: str, count: int | None = 1) -> None:
    got, parts = parts_of(resp)
    if count is not None:
        assert got == count == len(parts), resp.message
    for fragment in fragments:
        assert fragment in resp.message, resp.message


# --- exact messages for representative cases ------------------------------------------


def test_pattern_message_is_exact(api: Api) -> None:
    resp = api.error(PUT, good_put(ComplianceType="Custom:"))
    assert resp.message == (
        "1 validation error detected: Value 'Custom:' at 'complianceType' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {PATTERN}"
    )


def test_enum_message_is_exact_with_one_based_list_path(api: Api) -> None:
    resp = api.error(PUT, good_put(Items=items(3, Severity="BAD")))
    assert resp.message == "1 validation error detected: " + violation(
        "BAD", "items.3.member.severity", f"Member must satisfy enum value set: {SEVERITY_SET}"
    )


@pytest.mark.parametrize("operation", LISTS)
def test_max_results_zero_is_exact(api: Api, operation: str) -> None:
    resp = api.error(operation, {"MaxResults": 0})
    assert resp.message == (
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


@pytest.mark.parametrize("operation", LISTS)
def test_max_results_above_fifty(api: Api, operation: str) -> None:
    assert_exact(
        api.error(operation, {"MaxResults": 51}),
        violation("51", "maxResults", "Member must have value less than or equal to 50"),
    )


def test_missing_resource_id_is_exact(api: Api) -> None:
    resp = api.error(PUT, good_put(ResourceId=None))
    assert resp.message == (
        "1 validation error detected: Value null at 'resourceId' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_every_missing_required_member_is_reported(api: Api) -> None:
    assert_exact(
        api.error(PUT, {}),
        *(
            violation(None, path, NOT_NULL)
            for path in (
                "resourceId",
                "resourceType",
                "complianceType",
                "executionSummary",
                "items",
            )
        ),
    )


def test_several_errors_are_counted_and_joined(api: Api) -> None:
    body = good_put(
        Items=[
            {"Id": "1", "Severity": "BAD", "Status": "COMPLIANT"},
            {"Id": "2", "Severity": "LOW", "Status": "OK"},
            {"Id": "3", "Severity": "LOW", "Status": "COMPLIANT"},
        ],
        ComplianceType="Custom:x",
    )
    assert_exact(
        api.error(PUT, body),
        violation(
            "Custom:x",
            "complianceType",
            f"Member must satisfy regular expression pattern: {PATTERN}",
        ),
        violation(
            "BAD", "items.1.member.severity", f"Member must satisfy enum value set: {SEVERITY_SET}"
        ),
        violation(
            "OK",
            "items.2.member.status",
            "Member must satisfy enum value set: [COMPLIANT, NON_COMPLIANT]",
        ),
    )


@pytest.mark.parametrize("operation", LISTS)
def test_filter_operator_enum_is_exact(api: Api, operation: str) -> None:
    body = {"Filters": [{"Key": "ComplianceType", "Values": ["Patch"], "Type": "LIKE"}]}
    assert_exact(
        api.error(operation, body),
        violation(
            "LIKE", "filters.1.member.type", f"Member must satisfy enum value set: {OPERATOR_SET}"
        ),
    )


def test_execution_id_too_long_is_exact(api: Api) -> None:
    long_id = "e" * 101
    body = good_put(ExecutionSummary={"ExecutionTime": T0_EPOCH, "ExecutionId": long_id})
    assert_exact(
        api.error(PUT, body), violation(long_id, "executionSummary.executionId", at_most(100))
    )


# --- type and key phrases for the rest ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"ResourceId": "i-" + "0" * 99}, tail("resourceId", at_most(100))),
        ({"ResourceId": ""}, tail("resourceId", at_least(1))),
        ({"ResourceType": "M" * 51}, tail("resourceType", at_most(50))),
        ({"ResourceType": ""}, tail("resourceType", at_least(1))),
        ({"ComplianceType": "Custom:" + "a" * 94}, tail("complianceType", at_most(100))),
        (
            {"ComplianceType": "Custom:x"},
            tail("complianceType", "Member must satisfy regular expression pattern: " + PATTERN),
        ),
        ({"ComplianceType": "Custom:ab cd"}, "Member must satisfy regular expression pattern"),
        ({"ComplianceType": "Patch!"}, "Member must satisfy regular expression pattern"),
        ({"ItemContentHash": "h" * 257}, tail("itemContentHash", at_most(256))),
        (
            {"UploadType": "FULL"},
            tail("uploadType", "Member must satisfy enum value set: [COMPLETE, PARTIAL]"),
        ),
        (
            {"ExecutionSummary": {"ExecutionTime": T0_EPOCH, "ExecutionType": "t" * 51}},
            tail("executionSummary.executionType", at_most(50)),
        ),
        (
            {"ExecutionSummary": {"ExecutionId": "x"}},
            violation(None, "executionSummary.executionTime", NOT_NULL),
        ),
        ({"Items": items(2, Title="t" * 501)}, tail("items.2.member.title", at_most(500))),
        (
            {"Items": [{"Id": "a", "Status": "COMPLIANT"}]},
            violation(None, "items.1.member.severity", NOT_NULL),
        ),
        (
            {"Items": [{"Id": "a", "Severity": "LOW"}]},
            violation(None, "items.1.member.status", NOT_NULL),
        ),
        (
            {"Items": items(1, Status="compliant")},
            tail(
                "items.1.member.status",
                "Member must satisfy enum value set: [COMPLIANT, NON_COMPLIANT]",
            ),
        ),
    ],
    ids=[
        "id-long",
        "id-empty",
        "type-long",
        "type-empty",
        "ctype-long",
        "ctype-short",
        "ctype-space",
        "ctype-punct",
        "hash-long",
        "upload-enum",
        "exectype-long",
        "exectime-null",
        "title-long",
        "severity-null",
        "status-null",
        "status-case",
    ],
)
def test_put_constraint(api: Api, changes: dict[str, Any], fragment: str) -> None:
    assert_contains(api.error(PUT, good_put(**changes)), fragment, count=None)


@pytest.mark.parametrize(
    ("details", "number"),
    [({"k" * 65: "v"}, "64"), ({"": "v"}, "1"), ({"k": "v" * 4097}, "4096")],
    ids=["key-long", "key-empty", "value-long"],
)
def test_details_map_constraints(api: Api, details: dict[str, str], number: str) -> None:
    resp = api.error(PUT, good_put(Items=items(1, Details=details)))
    assert resp.error_type == "ValidationException"
    assert "items.1.member.details" in resp.message and number in resp.message


def test_details_at_the_limits_are_accepted(api: Api) -> None:
    body = good_put(Items=items(1, Details={"k" * 64: "v" * 4096, "empty": ""}))
    assert api.call(PUT, body).status == 200


def test_too_many_items(api: Api) -> None:
    body = good_put(Items=[{"Severity": "LOW", "Status": "COMPLIANT"}] * 10001)
    assert_contains(api.error(PUT, body), tail("items", at_most(10000)))


def test_validation_comes_before_resource_checks(api: Api) -> None:
    body = good_put(ResourceType="Document", ResourceId="bogus", Items=items(1, Severity="BAD"))
    assert api.error(PUT, body).error_type == "ValidationException"


@pytest.mark.parametrize("ctype", ["Foo", "Compliance", "patch", "association", "Patch_1"])
def test_unknown_compliance_type_family(api: Api, ctype: str) -> None:
    resp = api.error(PUT, good_put(ComplianceType=ctype))
    assert resp.error_type == "ValidationException"
    assert "compliancetype" in resp.message.lower()


@pytest.mark.parametrize("operation", LISTS)
@pytest.mark.parametrize(
    ("flt", "fragment"),
    [
        ({"Key": "Status", "Values": []}, tail("filters.1.member.values", at_least(1))),
        ({"Key": "Status", "Values": ["v"] * 21}, tail("filters.1.member.values", at_most(20))),
        ({"Key": "", "Values": ["v"]}, tail("filters.1.member.key", at_least(1))),
        ({"Key": "k" * 201, "Values": ["v"]}, tail("filters.1.member.key", at_most(200))),
    ],
    ids=["values-empty", "values-21", "key-empty", "key-long"],
)
def test_filter_constraints(api: Api, operation: str, flt: dict[str, Any], fragment: str) -> None:
    assert_contains(api.error(operation, {"Filters": [flt]}), fragment)


def test_second_filter_is_reported_with_its_index(api: Api) -> None:
    body = {
        "Filters": [
            {"Key": "Status", "Values": ["COMPLIANT"]},
            {"Key": "Status", "Values": ["COMPLIANT"], "Type": "ABOUT"},
        ]
    }
    assert_contains(
        api.error("ListComplianceItems", body),
        violation(
            "ABOUT", "filters.2.member.type", f"Member must satisfy enum value set: {OPERATOR_SET}"
        ),
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"ResourceIds": []}, tail("resourceIds", at_least(1))),
        ({"ResourceTypes": []}, tail("resourceTypes", at_least(1))),
        ({"ResourceIds": [""]}, tail("resourceIds.1.member", at_least(1))),
        ({"ResourceIds": ["i-" + "0" * 99]}, tail("resourceIds.1.member", at_most(100))),
        ({"ResourceTypes": ["M" * 51]}, tail("resourceTypes.1.member", at_most(50))),
    ],
    ids=["ids-empty", "types-empty", "id-empty", "id-long", "type-long"],
)
def test_list_items_constraints(api: Api, body: dict[str, Any], fragment: str) -> None:
    assert_contains(api.error("ListComplianceItems", body), fragment)


def test_more_than_one_resource_id(api: Api) -> None:
    body = {"ResourceIds": ["i-0123456789abcdef0", "i-0123456789abcdef1"]}
    assert api.error("ListComplianceItems", body).error_type == "ValidationException"


def test_limits_themselves_are_accepted(api: Api) -> None:
    body = good_put(
        ResourceId="i-0123456789abcdef9",
        ComplianceType="Custom:" + "a" * 93,
        ItemContentHash="h" * 256,
        ExecutionSummary={
            "ExecutionTime": T0_EPOCH,
            "ExecutionId": "e" * 100,
            "ExecutionType": "t" * 50,
        },
        Items=items(1, Title="t" * 500),
    )
    assert api.call(PUT, body).status == 200
    for operation in LISTS:
        assert api.call(operation, {"MaxResults": 50}).status == 200
        assert api.call(operation, {"MaxResults": 1}).status == 200
