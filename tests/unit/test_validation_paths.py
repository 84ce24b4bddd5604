"""The compiled fast check and the explaining walk agree on every body."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from complyd.errors import ComplianceError
from complyd.wire.model import OPERATIONS, input_shape
from complyd.wire.shapes import _check, _predicate

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            "x",
            "HIGH",
            "COMPLIANT",
            "PARTIAL",
            "Custom:ab",
            "Custom:",
            "i-12345678",
            "a\x00b",
            "ManagedInstance",
            "EQUAL",
            "x" * 101,
        ]
    ),
    st.text(max_size=5),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["Id", "Severity", "Status", "Key", "Values", "k"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)
MEMBERS = [
    "ResourceId",
    "ResourceType",
    "ComplianceType",
    "ExecutionSummary",
    "Items",
    "ItemContentHash",
    "UploadType",
    "Filters",
    "ResourceIds",
    "ResourceTypes",
    "NextToken",
    "MaxResults",
]
VALID_ITEM = {"Id": "a", "Severity": "HIGH", "Status": "COMPLIANT", "Details": {"k": "v"}}


def slow_ok(shape: Any, body: Any) -> bool:
    out: list[str] = []
    try:
        _check(shape, body, "", out)
    except ComplianceError:
        return False
    return not out


@settings(max_examples=400, deadline=None)
@given(
    operation=st.sampled_from(OPERATIONS),
    changes=st.dictionaries(st.sampled_from(MEMBERS), json_values, max_size=4),
    item_changes=st.dictionaries(
        st.sampled_from(["Id", "Title", "Severity", "Status", "Details"]), json_values, max_size=2
    ),
)
def test_fast_and_slow_paths_agree(
    operation: str, changes: dict[str, Any], item_changes: dict[str, Any]
) -> None:
    body: dict[str, Any] = {
        "ResourceId": "i-12345678",
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Patch",
        "ExecutionSummary": {"ExecutionTime": 1},
        "Items": [VALID_ITEM, {**VALID_ITEM, **item_changes}],
    }
    body.update(changes)
    shape = input_shape(operation)
    assert _predicate(shape)(body) == slow_ok(shape, body)
