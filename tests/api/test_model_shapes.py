"""The installed botocore ssm model still has every shape and constraint this suite relies on.

If botocore changes the schema, these fail first and point at the expectation to revisit,
instead of a dozen API tests failing for a reason that has nothing to do with complyd.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from .reference import SEVERITIES

PATTERN = r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$"
OPERATIONS = (
    "PutComplianceItems",
    "ListComplianceItems",
    "ListComplianceSummaries",
    "ListResourceComplianceSummaries",
)


@pytest.fixture(scope="module")
def model() -> Any:
    return botocore.session.get_session().get_service_model("ssm")


def shape(model: Any, name: str) -> Any:
    return model.shape_for(name)


def test_protocol_is_json_1_1_with_amazonssm_prefix(model: Any) -> None:
    assert model.protocol == "json"
    assert model.metadata["jsonVersion"] == "1.1"
    assert model.metadata["targetPrefix"] == "AmazonSSM"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operations_exist(model: Any, operation: str) -> None:
    assert operation in model.operation_names


def test_put_request_members_and_required(model: Any) -> None:
    inp = model.operation_model("PutComplianceItems").input_shape
    assert set(inp.members) == {
        "ResourceId",
        "ResourceType",
        "ComplianceType",
        "ExecutionSummary",
        "Items",
        "ItemContentHash",
        "UploadType",
    }
    assert set(inp.required_members) == {
        "ResourceId",
        "ResourceType",
        "ComplianceType",
        "ExecutionSummary",
        "Items",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ComplianceResourceId", {"min": 1, "max": 100}),
        ("ComplianceResourceType", {"min": 1, "max": 50}),
        ("ComplianceTypeName", {"min": 1, "max": 100, "pattern": PATTERN}),
        ("ComplianceExecutionId", {"max": 100}),
        ("ComplianceExecutionType", {"max": 50}),
        ("ComplianceItemTitle", {"max": 500}),
        ("ComplianceItemContentHash", {"max": 256}),
        ("AttributeName", {"min": 1, "max": 64}),
        ("AttributeValue", {"min": 0, "max": 4096}),
        ("ComplianceItemEntryList", {"min": 0, "max": 10000}),
        ("ComplianceStringFilterKey", {"min": 1, "max": 200}),
        ("ComplianceStringFilterValueList", {"min": 1, "max": 20}),
        ("ComplianceResourceIdList", {"min": 1}),
        ("ComplianceResourceTypeList", {"min": 1}),
        ("MaxResults", {"min": 1, "max": 50}),
    ],
)
def test_constraints(model: Any, name: str, expected: dict[str, Any]) -> None:
    meta = shape(model, name).metadata
    assert {k: meta.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ComplianceSeverity", list(SEVERITIES)),
        ("ComplianceStatus", ["COMPLIANT", "NON_COMPLIANT"]),
        ("ComplianceUploadType", ["COMPLETE", "PARTIAL"]),
        (
            "ComplianceQueryOperatorType",
            ["EQUAL", "NOT_EQUAL", "BEGIN_WITH", "LESS_THAN", "GREATER_THAN"],
        ),
    ],
)
def test_enums_in_model_order(model: Any, name: str, values: list[str]) -> None:
    assert shape(model, name).enum == values


def test_item_entry_and_execution_summary(model: Any) -> None:
    entry = shape(model, "ComplianceItemEntry")
    assert set(entry.members) == {"Id", "Title", "Severity", "Status", "Details"}
    assert set(entry.required_members) == {"Severity", "Status"}
    summary = shape(model, "ComplianceExecutionSummary")
    assert set(summary.members) == {"ExecutionTime", "ExecutionId", "ExecutionType"}
    assert summary.required_members == ["ExecutionTime"]
    assert summary.members["ExecutionTime"].type_name == "timestamp"


def test_list_inputs(model: Any) -> None:
    items = model.operation_model("ListComplianceItems").input_shape
    assert set(items.members) == {
        "Filters",
        "ResourceIds",
        "ResourceTypes",
        "NextToken",
        "MaxResults",
    }
    for op in ("ListComplianceSummaries", "ListResourceComplianceSummaries"):
        inp = model.operation_model(op).input_shape
        assert set(inp.members) == {"Filters", "NextToken", "MaxResults"}
    flt = shape(model, "ComplianceStringFilter")
    assert set(flt.members) == {"Key", "Values", "Type"}


def test_outputs(model: Any) -> None:
    item = shape(model, "ComplianceItem")
    assert set(item.members) >= {
        "ComplianceType",
        "ResourceType",
        "ResourceId",
        "Id",
        "Title",
        "Status",
        "Severity",
        "ExecutionSummary",
        "Details",
    }
    row = shape(model, "ResourceComplianceSummaryItem")
    assert set(row.members) >= {
        "ComplianceType",
        "ResourceType",
        "ResourceId",
        "Status",
        "OverallSeverity",
        "ExecutionSummary",
        "CompliantSummary",
        "NonCompliantSummary",
    }
    fleet = shape(model, "ComplianceSummaryItem")
    assert set(fleet.members) >= {"ComplianceType", "CompliantSummary", "NonCompliantSummary"}
    sev = shape(model, "SeveritySummary")
    assert set(sev.members) == {
        "CriticalCount",
        "HighCount",
        "MediumCount",
        "LowCount",
        "InformationalCount",
        "UnspecifiedCount",
    }
    for op, key in (
        ("ListComplianceItems", "ComplianceItems"),
        ("ListComplianceSummaries", "ComplianceSummaryItems"),
        ("ListResourceComplianceSummaries", "ResourceComplianceSummaryItems"),
    ):
        assert set(model.operation_model(op).output_shape.members) == {key, "NextToken"}


def test_error_shapes(model: Any) -> None:
    put_errors = {e.name for e in model.operation_model("PutComplianceItems").error_shapes}
    assert put_errors >= {
        "InvalidResourceType",
        "InvalidResourceId",
        "ComplianceTypeCountLimitExceededException",
        "ItemSizeLimitExceededException",
        "TotalSizeLimitExceededException",
    }
    list_errors = {e.name for e in model.operation_model("ListComplianceItems").error_shapes}
    assert list_errors >= {
        "InvalidResourceType",
        "InvalidResourceId",
        "InvalidFilter",
        "InvalidNextToken",
    }
    assert "TypeName" in shape(model, "ItemSizeLimitExceededException").members
