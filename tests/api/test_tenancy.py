"""Spec section 1: a tenant is (account, region) and tenants never see each other's data.

Open mode: the account is the access key id when it is 12 digits, else 000000000000; the
region is the SigV4 credential scope's region.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import Server, Tenant, make_client, new_instance_id, new_tenant, raw_request
from .reference import entry, list_compliance_summaries, list_items, list_resource_summaries, put

DEFAULT_ACCOUNT = "000000000000"


def counts(row: dict[str, Any]) -> tuple[int, int]:
    return (
        row["CompliantSummary"]["CompliantCount"],
        row["NonCompliantSummary"]["NonCompliantCount"],
    )


def everything(ssm: Any) -> tuple[list[Any], list[Any], list[Any]]:
    return list_items(ssm), list_resource_summaries(ssm), list_compliance_summaries(ssm)


@pytest.mark.parametrize("kind", ["account", "region"])
def test_tenants_are_isolated(server: Server, kind: str) -> None:
    owner = new_tenant()
    other = new_tenant() if kind == "account" else Tenant(owner.account, "ap-southeast-2")
    mine, theirs = make_client(server, owner), make_client(server, other)
    rid = new_instance_id()
    put(mine, rid, "Patch", [entry("kb", "HIGH", "NON_COMPLIANT")])
    put(mine, rid, "Custom:app", [entry("c")])
    items, rows, fleet = everything(theirs)
    assert items == [] and rows == []
    # An empty tenant may or may not show an all-zero FleetTotal row (the spec is silent).
    assert all(r["ComplianceType"] == "FleetTotal" and counts(r) == (0, 0) for r in fleet)
    assert list_items(theirs, rid) == []
    items, rows, fleet = everything(mine)
    assert len(items) == 2 and len(rows) == 2
    assert [r["ComplianceType"] for r in fleet] == ["FleetTotal", "Custom:app", "Patch"]
    assert counts(fleet[0]) == (0, 1)


def test_same_resource_in_two_tenants_is_independent(server: Server) -> None:
    one, two = make_client(server, new_tenant()), make_client(server, new_tenant())
    rid = new_instance_id()
    put(one, rid, "Patch", [entry("one", "CRITICAL", "NON_COMPLIANT")], content_hash="H")
    put(two, rid, "Patch", [entry("two", "LOW")], content_hash="H")
    put(two, rid, "Patch", [entry("two-b", "LOW")], content_hash="H2")
    assert [it["Id"] for it in list_items(one, rid)] == ["one"]
    assert [it["Id"] for it in list_items(two, rid)] == ["two-b"]
    [row_one] = list_resource_summaries(one)
    [row_two] = list_resource_summaries(two)
    assert (row_one["Status"], row_two["Status"]) == ("NON_COMPLIANT", "COMPLIANT")
    # Removing the type in one tenant leaves the other alone.
    put(one, rid, "Patch", [])
    assert list_items(one, rid) == [] and len(list_items(two, rid)) == 1


def test_custom_type_limit_is_per_tenant(server: Server) -> None:
    rid = new_instance_id()
    for client in (make_client(server, new_tenant()), make_client(server, new_tenant())):
        for n in range(10):
            put(client, rid, f"Custom:t{n:02d}", [entry("x")])
        assert len(list_resource_summaries(client)) == 10


@pytest.mark.parametrize("key", ["AKIDEXAMPLE", "12345678901", "1234567890123", "12345678901a"])
def test_non_twelve_digit_keys_share_the_default_account(server: Server, key: str) -> None:
    writer = make_client(server, Tenant(DEFAULT_ACCOUNT), access_key=key)
    rid = new_instance_id()
    put(writer, rid, "Custom:dflt", [entry(key)])
    as_default = make_client(server, Tenant(DEFAULT_ACCOUNT))
    assert [it["Id"] for it in list_items(as_default, rid)] == [key]
    as_other_key = make_client(server, Tenant(DEFAULT_ACCOUNT), access_key="ASIAOTHERKEY")
    assert [it["Id"] for it in list_items(as_other_key, rid)] == [key]
    assert list_items(make_client(server, new_tenant()), rid) == []


def test_twelve_digit_key_is_the_account(server: Server) -> None:
    tenant = new_tenant()
    rid = new_instance_id()
    put(make_client(server, tenant), rid, "Custom:acct", [entry("a")])
    default = make_client(server, Tenant(DEFAULT_ACCOUNT))
    assert list_items(default, rid) == []


@pytest.mark.process  # raw HTTP to the server's URL, which no botocore hook sees
def test_region_comes_from_the_credential_scope(server: Server) -> None:
    tenant = new_tenant("eu-central-1")
    rid = new_instance_id()
    put(make_client(server, tenant), rid, "Custom:reg", [entry("a")])
    body = {"ResourceIds": [rid]}
    here = raw_request(
        server.url,
        "AmazonSSM.ListComplianceItems",
        body,
        access_key=tenant.account,
        region="eu-central-1",
    )
    there = raw_request(
        server.url,
        "AmazonSSM.ListComplianceItems",
        body,
        access_key=tenant.account,
        region="us-east-1",
    )
    assert here.status == there.status == 200
    assert [it["Id"] for it in here.body["ComplianceItems"]] == ["a"]
    assert there.body.get("ComplianceItems", []) == []


def test_fleet_counts_only_own_tenant(server: Server) -> None:
    crowd = make_client(server, new_tenant())
    for _ in range(3):
        put(crowd, new_instance_id(), "Patch", [entry("p", "HIGH", "NON_COMPLIANT")])
    alone = make_client(server, new_tenant())
    put(alone, new_instance_id(), "Patch", [entry("p")])
    total = list_compliance_summaries(alone)[0]
    assert total["ComplianceType"] == "FleetTotal"
    assert total["CompliantSummary"]["CompliantCount"] == 1
    assert total["NonCompliantSummary"]["NonCompliantCount"] == 0
