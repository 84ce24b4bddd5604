"""Spec section 8: MaxResults, NextToken pages, and tamper-evident tokens."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Server, Tenant, make_client, new_instance_id, new_tenant
from .reference import (
    entry,
    item_key,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    put,
)

ITEMS = ("list_compliance_items", "ComplianceItems")
ROWS = ("list_resource_compliance_summaries", "ResourceComplianceSummaryItems")
FLEET = ("list_compliance_summaries", "ComplianceSummaryItems")


def pages(ssm: Any, op: tuple[str, str], **kwargs: Any) -> list[list[dict[str, Any]]]:
    call, key = getattr(ssm, op[0]), op[1]
    out = []
    while True:
        resp = call(**kwargs)
        out.append(resp[key])
        if "NextToken" not in resp:
            return out
        assert resp["NextToken"], "an empty NextToken must be left out"
        kwargs["NextToken"] = resp["NextToken"]


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def altered(token: str) -> list[str]:
    mid = len(token) // 2
    swap = "B" if token[mid] != "B" else "C"
    return [token[:mid] + swap + token[mid + 1 :], token[:-4], token + "AAAA", "bm90LWEtdG9rZW4="]


@pytest.fixture
def seven(ssm: Any) -> str:
    rid = new_instance_id()
    put(ssm, rid, "Custom:page", [entry(f"id{i}") for i in range(7)])
    return rid


def first_token(ssm: Any, op: tuple[str, str], **kwargs: Any) -> str:
    token = getattr(ssm, op[0])(MaxResults=1, **kwargs).get("NextToken")
    assert token, "expected more than one page"
    return str(token)


def test_items_in_pages(ssm: Any, seven: str) -> None:
    got = pages(ssm, ITEMS, ResourceIds=[seven], MaxResults=3)
    assert [len(p) for p in got] == [3, 3, 1]
    assert [it["Id"] for p in got for it in p] == [f"id{i}" for i in range(7)]


def test_default_page_size_is_fifty(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:page", [entry(f"id{i:03d}") for i in range(60)])
    got = pages(ssm, ITEMS, ResourceIds=[rid])
    assert [len(p) for p in got] == [50, 10]
    assert [it["Id"] for p in got for it in p] == [f"id{i:03d}" for i in range(60)]


def test_last_full_page_has_no_token(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:page", [entry(f"id{i}") for i in range(4)])
    got = pages(ssm, ITEMS, ResourceIds=[rid], MaxResults=4)
    assert [len(p) for p in got] == [4]


def test_items_across_resources_and_types(ssm: Any) -> None:
    for _ in range(3):
        rid = new_instance_id()
        for ctype in ("Patch", "Custom:a1"):
            put(ssm, rid, ctype, [entry(f"{ctype[-1]}{i}") for i in range(3)])
    whole = [item_key(it) for it in list_items(ssm, MaxResults=50)]
    paged = [item_key(it) for p in pages(ssm, ITEMS, MaxResults=4) for it in p]
    assert len(whole) == 18 and paged == whole


def test_resource_summaries_in_pages(ssm: Any) -> None:
    for _ in range(5):
        put(ssm, new_instance_id(), "Patch", [entry("p")])
    got = pages(ssm, ROWS, MaxResults=2)
    assert [len(p) for p in got] == [2, 2, 1]
    assert [r for p in got for r in p] == list_resource_summaries(ssm)


def test_compliance_summaries_in_pages(ssm: Any) -> None:
    rid = new_instance_id()
    for ctype in ("Patch", "Association", "Custom:a1", "Custom:b2"):
        put(ssm, rid, ctype, [entry("x")])
    got = pages(ssm, FLEET, MaxResults=2)
    assert [len(p) for p in got] == [2, 2, 1]
    names = [r["ComplianceType"] for p in got for r in p]
    assert names == ["FleetTotal", "Association", "Custom:a1", "Custom:b2", "Patch"]
    assert [r for p in got for r in p] == list_compliance_summaries(ssm)


@pytest.mark.parametrize("op", [ITEMS, ROWS], ids=["items", "rows"])
def test_altered_tokens_are_rejected(ssm: Any, seven: str, op: tuple[str, str]) -> None:
    put(ssm, new_instance_id(), "Patch", [entry("x")])
    token = first_token(ssm, op)
    for bad in altered(token):
        assert error_code(getattr(ssm, op[0]), MaxResults=1, NextToken=bad) == "InvalidNextToken"


def test_altered_compliance_summary_token(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("x")])
    put(ssm, rid, "Association", [entry("x")])
    token = first_token(ssm, FLEET)
    for bad in altered(token):
        assert (
            error_code(ssm.list_compliance_summaries, MaxResults=1, NextToken=bad)
            == "InvalidNextToken"
        )


@pytest.mark.parametrize("kind", ["account", "region", "default-account"])
def test_token_of_another_tenant(server: Server, kind: str) -> None:
    owner = new_tenant()
    other = {
        "account": new_tenant(),
        "region": Tenant(owner.account, "eu-west-1"),
        "default-account": Tenant("000000000000"),
    }[kind]
    mine, theirs = make_client(server, owner), make_client(server, other)
    for client in (mine, theirs):
        put(client, new_instance_id(), "Patch", [entry("a"), entry("b")])
    token = first_token(mine, ITEMS)
    code = error_code(theirs.list_compliance_items, MaxResults=1, NextToken=token)
    assert code == "InvalidNextToken"


def test_token_of_another_operation(ssm: Any, seven: str) -> None:
    put(ssm, new_instance_id(), "Association", [entry("a")])
    items_token = first_token(ssm, ITEMS)
    rows_token = first_token(ssm, ROWS)
    fleet_token = first_token(ssm, FLEET)
    for call, token in (
        (ssm.list_resource_compliance_summaries, items_token),
        (ssm.list_compliance_summaries, rows_token),
        (ssm.list_compliance_items, fleet_token),
        (ssm.list_compliance_items, rows_token),
    ):
        assert error_code(call, MaxResults=1, NextToken=token) == "InvalidNextToken"


def test_token_with_other_filters(ssm: Any, seven: str) -> None:
    first = [{"Key": "Status", "Values": ["COMPLIANT"]}]
    other = [{"Key": "Status", "Values": ["NON_COMPLIANT"]}]
    token = first_token(ssm, ITEMS, Filters=first)
    assert ssm.list_compliance_items(MaxResults=1, Filters=first, NextToken=token)
    code = error_code(ssm.list_compliance_items, MaxResults=1, Filters=other, NextToken=token)
    assert code == "InvalidNextToken"
    code = error_code(ssm.list_compliance_items, MaxResults=1, NextToken=token)
    assert code == "InvalidNextToken"
    put(ssm, new_instance_id(), "Patch", [entry("a")])
    rows_token = first_token(ssm, ROWS, Filters=first)
    code = error_code(
        ssm.list_resource_compliance_summaries, MaxResults=1, Filters=other, NextToken=rows_token
    )
    assert code == "InvalidNextToken"


def test_tokens_never_repeat_but_both_work(ssm: Any, seven: str) -> None:
    one = ssm.list_compliance_items(ResourceIds=[seven], MaxResults=2)
    two = ssm.list_compliance_items(ResourceIds=[seven], MaxResults=2)
    assert one["ComplianceItems"] == two["ComplianceItems"]
    assert one["NextToken"] != two["NextToken"]
    next_one = ssm.list_compliance_items(
        ResourceIds=[seven], MaxResults=2, NextToken=one["NextToken"]
    )
    next_two = ssm.list_compliance_items(
        ResourceIds=[seven], MaxResults=2, NextToken=two["NextToken"]
    )
    assert [it["Id"] for it in next_one["ComplianceItems"]] == ["id2", "id3"]
    assert next_one["ComplianceItems"] == next_two["ComplianceItems"]
    assert next_one["NextToken"] != next_two["NextToken"]
    # A token can be used again (a retried request).
    again = ssm.list_compliance_items(ResourceIds=[seven], MaxResults=2, NextToken=one["NextToken"])
    assert again["ComplianceItems"] == next_one["ComplianceItems"]


def test_paging_is_keyset_not_offset(ssm: Any) -> None:
    """An item added before the cursor between pages neither repeats nor shifts a page."""
    rid = new_instance_id()
    put(ssm, rid, "Association", [entry(f"k{i}") for i in (2, 4, 6, 8)])
    first = ssm.list_compliance_items(ResourceIds=[rid], MaxResults=2)
    assert [it["Id"] for it in first["ComplianceItems"]] == ["k2", "k4"]
    put(ssm, rid, "Association", [entry("k1")], upload_type="PARTIAL")
    rest = list_items(ssm, rid, MaxResults=2, NextToken=first["NextToken"])
    assert [it["Id"] for it in rest] == ["k6", "k8"]


@pytest.mark.parametrize("op", [ITEMS, ROWS, FLEET], ids=["items", "rows", "fleet"])
def test_max_results_one(ssm: Any, op: tuple[str, str]) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("a"), entry("b")])
    put(ssm, rid, "Custom:x1", [entry("c")])
    got = pages(ssm, op, MaxResults=1)
    assert all(len(p) == 1 for p in got)
    whole = getattr(ssm, op[0])()[op[1]]
    assert [r for p in got for r in p] == whole and len(whole) >= 2
