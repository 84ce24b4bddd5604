"""Spec section 4 steps 6 and 7: custom-type count, item size and total size limits."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Api, Server, Tenant, make_client, new_instance_id, new_tenant
from .reference import T0_EPOCH, at, entry, list_items, list_resource_summaries, put

COUNT_LIMIT = "ComplianceTypeCountLimitExceededException"


def put_error(ssm: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        put(ssm, *args, **kwargs)
    return dict(info.value.response)


def sized(n: int, item_id: str = "big") -> dict[str, Any]:
    """One item whose Details carry about n bytes."""
    chunks = {f"k{i}": "x" * min(4000, n - i * 4000) for i in range((n + 3999) // 4000)}
    return entry(item_id, "LOW", details=chunks)


def raw_put(resource_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ResourceId": resource_id,
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:size",
        "ExecutionSummary": {"ExecutionTime": T0_EPOCH},
        "Items": items,
    }


# --- custom type count --------------------------------------------------------------------


def test_eleventh_custom_type_is_refused(ssm: Any) -> None:
    rid = new_instance_id()
    for n in range(10):
        put(ssm, rid, f"Custom:t{n:02d}", [entry("x")])
    err = put_error(ssm, rid, "Custom:t10", [entry("x")])
    assert err["Error"]["Code"] == COUNT_LIMIT
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    types = {r["ComplianceType"] for r in list_resource_summaries(ssm)}
    assert "Custom:t10" not in types and len(types) == 10


def test_association_and_patch_do_not_count(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Association", [entry("a")])
    put(ssm, rid, "Patch", [entry("p")])
    for n in range(10):
        put(ssm, rid, f"Custom:t{n:02d}", [entry("x")])
    put(ssm, rid, "Association", [entry("a2")], when=at(1))
    put(ssm, rid, "Patch", [entry("p2")], when=at(1))
    assert len(list_resource_summaries(ssm)) == 12


def test_existing_custom_types_can_still_be_written(ssm: Any) -> None:
    rid = new_instance_id()
    for n in range(10):
        put(ssm, rid, f"Custom:t{n:02d}", [entry("x")])
    put(ssm, rid, "Custom:t03", [entry("y", "HIGH", "NON_COMPLIANT")], when=at(1))
    assert {it["Id"] for it in list_items(ssm, rid) if it["ComplianceType"] == "Custom:t03"} == {
        "y"
    }


def test_removing_a_custom_type_frees_its_slot(ssm: Any) -> None:
    rid = new_instance_id()
    for n in range(10):
        put(ssm, rid, f"Custom:t{n:02d}", [entry("x")])
    put(ssm, rid, "Custom:t00", [], when=at(1))
    put(ssm, rid, "Custom:new", [entry("x")])
    assert put_error(ssm, rid, "Custom:newer", [entry("x")])["Error"]["Code"] == COUNT_LIMIT


def test_limit_is_per_resource(ssm: Any) -> None:
    first, second = new_instance_id(), new_instance_id()
    for n in range(10):
        put(ssm, first, f"Custom:t{n:02d}", [entry("x")])
    put(ssm, second, "Custom:t10", [entry("x")])
    assert [it["ResourceId"] for it in list_items(ssm, second)] == [second]


# --- size limits ----------------------------------------------------------------------------


def test_default_item_size_limit_is_one_mebibyte(api: Api) -> None:
    rid = new_instance_id()
    under = [sized(4000, f"i{n:03d}") for n in range(220)]  # about 0.9 MB
    assert api.call("PutComplianceItems", raw_put(rid, under)).status == 200
    over = [sized(4000, f"i{n:03d}") for n in range(300)]  # about 1.2 MB
    resp = api.error("PutComplianceItems", raw_put(rid, over))
    assert resp.error_type == "ItemSizeLimitExceededException"
    assert resp.body.get("TypeName") == "AWS:ComplianceItem"


@pytest.fixture
def small_items_server(server_factory: Any) -> Server:
    srv: Server = server_factory("--item-size-limit", "4000", "--total-size-limit", "1000000")
    return srv


def test_item_size_limit_option(small_items_server: Server) -> None:
    api = Api(small_items_server, new_tenant())
    rid = new_instance_id()
    assert api.call("PutComplianceItems", raw_put(rid, [sized(1500)])).status == 200
    resp = api.error("PutComplianceItems", raw_put(rid, [sized(1500, f"n{n}") for n in range(4)]))
    assert resp.error_type == "ItemSizeLimitExceededException"
    assert resp.body["TypeName"] == "AWS:ComplianceItem"
    # The refused put changed nothing.
    got = api.ok("ListComplianceItems", {"ResourceIds": [rid]})["ComplianceItems"]
    assert [it["Id"] for it in got] == ["big"]
    ssm = make_client(small_items_server, api.tenant)
    err = put_error(ssm, rid, "Custom:size", [sized(5000)], when=at(1))
    assert err["Error"]["Code"] == "ItemSizeLimitExceededException"


@pytest.fixture
def small_total_server(server_factory: Any) -> Server:
    srv: Server = server_factory("--total-size-limit", "20000")
    return srv


def test_total_size_limit_option(small_total_server: Server) -> None:
    ssm = make_client(small_total_server, Tenant("123456789012"))
    rid = new_instance_id()
    put(ssm, rid, "Custom:a1", [sized(6000)])
    put(ssm, rid, "Custom:b2", [sized(6000)])
    err = put_error(ssm, rid, "Custom:c3", [sized(10000)])
    assert err["Error"]["Code"] == "TotalSizeLimitExceededException"
    assert [r["ComplianceType"] for r in list_resource_summaries(ssm)] == ["Custom:a1", "Custom:b2"]
    # Replacing a type counts the new items instead of the old ones, not on top of them.
    put(ssm, rid, "Custom:a1", [sized(12000)], when=at(1))
    # Removing a type gives its room back.
    put(ssm, rid, "Custom:a1", [], when=at(2))
    put(ssm, rid, "Custom:c3", [sized(10000)])
    assert [r["ComplianceType"] for r in list_resource_summaries(ssm)] == ["Custom:b2", "Custom:c3"]
    # The limit is per resource.
    put(ssm, new_instance_id(), "Custom:a1", [sized(15000)])
