"""Validation against the botocore model gives AWS's messages and error types."""

from __future__ import annotations

from typing import Any

import pytest

from complyd.errors import SerializationException, ValidationException
from complyd.wire.model import input_shape
from complyd.wire.shapes import validate

PUT = input_shape("PutComplianceItems")
LIST = input_shape("ListComplianceItems")


def put_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ResourceId": "i-12345678",
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:Scan",
        "ExecutionSummary": {"ExecutionTime": 1550408470},
        "Items": [{"Severity": "HIGH", "Status": "COMPLIANT"}],
    }
    body.update(overrides)
    return body


def message(shape: Any, body: dict[str, Any]) -> str:
    with pytest.raises(ValidationException) as info:
        validate(shape, body)
    return info.value.message


def test_valid_body_passes() -> None:
    validate(PUT, put_body())


def test_pattern_violation_quotes_value_path_and_pattern() -> None:
    assert message(PUT, put_body(ComplianceType="Custom:")) == (
        "1 validation error detected: Value 'Custom:' at 'complianceType' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: "
        r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$"
    )


def test_pattern_must_match_whole_value_and_ascii_only() -> None:
    for bad in ("Custom:x", "Custom:ab\n", "Custom:é1", "Patch!"):
        assert "regular expression" in message(PUT, put_body(ComplianceType=bad))


def test_missing_required_members_are_null() -> None:
    body = put_body()
    del body["ResourceId"]
    del body["Items"]
    assert message(PUT, body) == (
        "2 validation errors detected: Value null at 'resourceId' failed to satisfy constraint: "
        "Member must not be null; Value null at 'items' failed to satisfy constraint: Member "
        "must not be null"
    )


def test_nested_paths_are_lower_camel_and_one_based() -> None:
    items = [{"Severity": "HIGH", "Status": "COMPLIANT"}] * 2 + [
        {"Severity": "SEVERE", "Status": "COMPLIANT", "Title": "t" * 501}
    ]
    text = message(
        PUT, put_body(Items=items, ExecutionSummary={"ExecutionTime": 1, "ExecutionId": "x" * 101})
    )
    assert text.startswith("3 validation errors detected: ")
    assert (
        "at 'executionSummary.executionId' failed to satisfy constraint: Member must have length less than or equal to 100"
        in text
    )
    assert (
        "Value 'SEVERE' at 'items.3.member.severity' failed to satisfy constraint: Member must satisfy enum value set: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]"
        in text
    )
    assert (
        "at 'items.3.member.title' failed to satisfy constraint: Member must have length less than or equal to 500"
        in text
    )


def test_min_length_and_integer_range() -> None:
    assert message(PUT, put_body(ResourceId="")) == (
        "1 validation error detected: Value '' at 'resourceId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    assert message(LIST, {"MaxResults": 51}) == (
        "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 50"
    )
    assert "Value '[]' at 'resourceIds'" in message(LIST, {"ResourceIds": []})


def test_map_key_and_value_constraints() -> None:
    text = message(
        PUT,
        put_body(
            Items=[{"Severity": "LOW", "Status": "COMPLIANT", "Details": {"k" * 65: "v" * 4097}}]
        ),
    )
    assert text.startswith("2 validation errors detected")
    assert (
        "at 'items.1.member.details' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 64]"
        in text
    )
    assert (
        "Map value must satisfy constraint: [Member must have length less than or equal to 4096]"
        in text
    )


def test_list_size_limit() -> None:
    items = [{"Severity": "LOW", "Status": "COMPLIANT"}] * 10001
    assert "Member must have length less than or equal to 10000" in message(
        PUT, put_body(Items=items)
    )


@pytest.mark.parametrize(
    "body",
    [
        {"Items": "nope"},
        {"MaxResults": "5"},
        {"ExecutionSummary": {"ExecutionTime": "yesterday"}},
        {"Items": [{"Severity": 1, "Status": "COMPLIANT"}]},
        {"Items": [{"Severity": "LOW", "Status": "COMPLIANT", "Details": {"a": 1}}]},
        {"ResourceId": True},
        {"ExecutionSummary": []},
    ],
)
def test_wrong_json_types_are_serialization_errors(body: dict[str, Any]) -> None:
    shape = LIST if "MaxResults" in body else PUT
    with pytest.raises(SerializationException) as info:
        validate(shape, put_body(**body) if shape is PUT else body)
    assert "Expected" in info.value.message


def test_booleans_are_not_integers() -> None:
    with pytest.raises(SerializationException):
        validate(LIST, {"MaxResults": True})


def test_long_values_are_shortened_in_messages() -> None:
    text = message(PUT, put_body(ResourceId="x" * 5000))
    assert len(text) < 1400 and "..." in text


@pytest.mark.parametrize("seconds", [1e17, -1e17, 253402300800])
def test_out_of_range_timestamps_are_serialization_errors(seconds: float) -> None:
    with pytest.raises(SerializationException, match="out of range"):
        validate(PUT, put_body(ExecutionSummary={"ExecutionTime": seconds}))


def test_nul_characters_are_refused_everywhere() -> None:
    details = {"Items": [{"Severity": "LOW", "Status": "COMPLIANT", "Details": {"k\x00": "v"}}]}
    text = message(PUT, put_body(Title=None, **details))
    assert "Map keys must satisfy constraint: [Member must not contain the NUL character" in text
    text = message(PUT, put_body(ResourceId="i-1234\x005678"))
    assert "Value 'i-1234\\u00005678' at 'resourceId'" in text
