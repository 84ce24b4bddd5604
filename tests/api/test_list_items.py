"""Spec section 5: ListComplianceItems (filters are in test_filters.py, paging in
test_pagination.py)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Server, Tenant, make_client, new_instance_id
from .reference import T0_EPOCH, at, entry, epoch, item_key, list_items, put


def error_code(ssm: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        ssm.list_compliance_items(**kwargs)
    return str(info.value.response["Error"]["Code"])


def test_item_fields(ssm: Any) -> None:
    rid = new_instance_id()
    details = {"DocumentName": "AWS-RunPatchBaseline", "PatchState": "Installed"}
    put(
        ssm,
        rid,
        "Patch",
        [entry("KB1", "CRITICAL", "NON_COMPLIANT", title="Fix", details=details)],
        when=at(5),
        execution_id="e-1",
        execution_type="Command",
    )
    [item] = list_items(ssm, rid)
    assert item["ComplianceType"] == "Patch"
    assert item["ResourceType"] == "ManagedInstance"
    assert item["ResourceId"] == rid
    assert item["Id"] == "KB1" and item["Title"] == "Fix"
    assert item["Status"] == "NON_COMPLIANT" and item["Severity"] == "CRITICAL"
    assert item["Details"] == details
    assert item["ExecutionSummary"]["ExecutionId"] == "e-1"
    assert item["ExecutionSummary"]["ExecutionType"] == "Command"
    assert epoch(item["ExecutionSummary"]["ExecutionTime"]) == T0_EPOCH + 5


def test_whole_tenant_in_resource_type_id_order(ssm: Any) -> None:
    rids = [new_instance_id() for _ in range(4)]
    types = ["Patch", "Custom:zeta", "Association", "Custom:alpha"]
    ids = ["9", "10", "2", "a", "b", "a1"]
    rng = random.Random(7)
    expected: list[tuple[str, str, str | None]] = []
    for rid in rng.sample(rids, len(rids)):
        for ctype in rng.sample(types, 3):
            chosen = rng.sample(ids, 4)
            put(ssm, rid, ctype, [entry(i) for i in chosen])
            expected += [(rid, ctype, i) for i in chosen]
    got = [item_key(it) for it in list_items(ssm)]
    assert got == sorted(expected)


def test_items_without_id_follow_in_sent_order(ssm: Any) -> None:
    rid = new_instance_id()
    sent = [entry(title="third-sent-first"), entry("b"), entry(title="a-second"), entry("a")]
    put(ssm, rid, "Custom:order", sent)
    got = list_items(ssm, rid)
    assert [(it.get("Id"), it.get("Title")) for it in got] == [
        ("a", None),
        ("b", None),
        (None, "third-sent-first"),
        (None, "a-second"),
    ]


def test_one_resource_only(ssm: Any) -> None:
    mine, other = new_instance_id(), new_instance_id()
    put(ssm, mine, "Custom:x1", [entry("m")])
    put(ssm, other, "Custom:x1", [entry("o")])
    assert [it["Id"] for it in list_items(ssm, mine)] == ["m"]
    assert [it["Id"] for it in list_items(ssm, other)] == ["o"]
    assert {it["Id"] for it in list_items(ssm)} == {"m", "o"}


def test_unknown_resource_is_empty(ssm: Any) -> None:
    put(ssm, new_instance_id(), "Custom:x1", [entry("m")])
    assert list_items(ssm, new_instance_id()) == []


def test_resource_types_managed_instance(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:x1", [entry("m")])
    got = list_items(ssm, rid, ResourceTypes=["ManagedInstance"])
    assert [it["Id"] for it in got] == ["m"]


@pytest.mark.parametrize("types", [["Document"], ["ManagedInstance", "Document"]])
def test_other_resource_types(ssm: Any, types: list[str]) -> None:
    assert error_code(ssm, ResourceTypes=types) == "InvalidResourceType"


@pytest.mark.parametrize("rid", ["web-01", "i-1234567", "mi-12345678"])
def test_invalid_resource_id(ssm: Any, rid: str) -> None:
    assert error_code(ssm, ResourceIds=[rid]) == "InvalidResourceId"


def test_more_than_one_resource_id(ssm: Any) -> None:
    code = error_code(ssm, ResourceIds=[new_instance_id(), new_instance_id()])
    assert code == "ValidationException"


def test_any_resource_id_server_lists_any_id(any_id_server: Server) -> None:
    ssm = make_client(any_id_server, Tenant("210987654321"))
    put(ssm, "host/with.dots", "Custom:x1", [entry("h")])
    assert [it["ResourceId"] for it in list_items(ssm, "host/with.dots")] == ["host/with.dots"]
    assert list_items(ssm, "never-seen") == []


def test_every_type_of_the_resource_is_returned(ssm: Any) -> None:
    rid = new_instance_id()
    for ctype in ("Association", "Patch", "Custom:a1", "Custom:b2"):
        put(ssm, rid, ctype, [entry("x")])
    got = [it["ComplianceType"] for it in list_items(ssm, rid)]
    assert got == ["Association", "Custom:a1", "Custom:b2", "Patch"]
