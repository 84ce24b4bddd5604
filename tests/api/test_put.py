"""Spec section 4: PutComplianceItems, steps 2-9, observed through the list calls."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Api, Server, Tenant, make_client, new_instance_id
from .reference import (
    T0,
    T0_EPOCH,
    at,
    entry,
    epoch,
    list_items,
    list_resource_summaries,
    put,
)


def error_code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return str(info.value.response["Error"]["Code"])


def view(items: list[dict[str, Any]]) -> list[tuple[str, str | None, str, str, str | None]]:
    return [
        (it["ComplianceType"], it.get("Id"), it["Severity"], it["Status"], it.get("Title"))
        for it in items
    ]


def rows_of(ssm: Any, rid: str) -> list[dict[str, Any]]:
    return list_resource_summaries(ssm, [{"Key": "ResourceId", "Values": [rid]}])


# --- resource checks (steps 2 and 3) ----------------------------------------------------


@pytest.mark.parametrize("resource_type", ["Document", "managedinstance", "AWS::EC2::Instance"])
def test_invalid_resource_type(ssm: Any, resource_type: str) -> None:
    code = error_code(
        put, ssm, new_instance_id(), "Custom:x1", [entry("a")], resource_type=resource_type
    )
    assert code == "InvalidResourceType"


@pytest.mark.parametrize(
    "resource_id",
    [
        "i-1234567",
        "i-123456789",
        "i-0123456789abcdef",
        "i-0123456789abcdef01",
        "mi-12345678",
        "web-01",
        "I-12345678",
        "i-1234-678",
        " i-12345678",
        "mi-0123456789abcdef",
    ],
)
def test_invalid_resource_id(ssm: Any, resource_id: str) -> None:
    assert error_code(put, ssm, resource_id, "Custom:x1", [entry("a")]) == "InvalidResourceId"


@pytest.mark.parametrize(
    "resource_id",
    [
        "i-12345678",
        "i-0123456789abcdef0",
        "mi-0123456789abcdef0",
        "i-abcd_EFG",
        "i-ABCDEFGH",
    ],
)
def test_valid_resource_ids(ssm: Any, resource_id: str) -> None:
    put(ssm, resource_id, "Custom:x1", [entry("a")])
    assert [it["ResourceId"] for it in list_items(ssm, resource_id)] == [resource_id]


def test_resource_type_is_checked_before_resource_id(ssm: Any) -> None:
    code = error_code(put, ssm, "bogus", "Custom:x1", [entry("a")], resource_type="Document")
    assert code == "InvalidResourceType"


def test_any_resource_id_option(any_id_server: Server) -> None:
    ssm = make_client(any_id_server, Tenant("123456789012"))
    put(ssm, "web-01.example.com", "Custom:x1", [entry("a", "HIGH")])
    [item] = list_items(ssm, "web-01.example.com")
    assert item["ResourceId"] == "web-01.example.com" and item["Severity"] == "HIGH"
    assert (
        error_code(put, ssm, "web-02", "Custom:x1", [entry("a")], resource_type="Document")
        == "InvalidResourceType"
    )


# --- COMPLETE, PARTIAL, ids -------------------------------------------------------------


def test_complete_replaces_only_that_type(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:app", [entry("a"), entry("b"), entry("c")])
    put(ssm, rid, "Patch", [entry("kb1", "HIGH", "NON_COMPLIANT")])
    put(ssm, rid, "Custom:app", [entry("b", "CRITICAL", title="new"), entry("d")], when=at(60))
    assert view(list_items(ssm, rid)) == [
        ("Custom:app", "b", "CRITICAL", "COMPLIANT", "new"),
        ("Custom:app", "d", "LOW", "COMPLIANT", None),
        ("Patch", "kb1", "HIGH", "NON_COMPLIANT", None),
    ]


def test_complete_with_no_items_removes_the_type(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:app", [entry("a", "HIGH", "NON_COMPLIANT")])
    put(ssm, rid, "Patch", [entry("kb1")])
    put(ssm, rid, "Custom:app", [], when=at(1))
    assert [it["ComplianceType"] for it in list_items(ssm, rid)] == ["Patch"]
    assert [row["ComplianceType"] for row in rows_of(ssm, rid)] == ["Patch"]


def test_partial_upserts_by_id_and_keeps_each_items_execution(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Association", [entry("a1"), entry("a2"), entry("a3")], execution_id="run-1")
    put(
        ssm,
        rid,
        "Association",
        [entry("a2", "HIGH", "NON_COMPLIANT"), entry("a4")],
        when=at(120),
        execution_id="run-2",
        upload_type="PARTIAL",
    )
    got = list_items(ssm, rid)
    assert view(got) == [
        ("Association", "a1", "LOW", "COMPLIANT", None),
        ("Association", "a2", "HIGH", "NON_COMPLIANT", None),
        ("Association", "a3", "LOW", "COMPLIANT", None),
        ("Association", "a4", "LOW", "COMPLIANT", None),
    ]
    runs = {it["Id"]: it["ExecutionSummary"].get("ExecutionId") for it in got}
    assert runs == {"a1": "run-1", "a2": "run-2", "a3": "run-1", "a4": "run-2"}
    times = {it["Id"]: epoch(it["ExecutionSummary"]["ExecutionTime"]) for it in got}
    assert times == {"a1": T0_EPOCH, "a2": T0_EPOCH + 120, "a3": T0_EPOCH, "a4": T0_EPOCH + 120}
    [row] = rows_of(ssm, rid)
    assert row["ExecutionSummary"].get("ExecutionId") == "run-2"
    assert row["Status"] == "NON_COMPLIANT"


@pytest.mark.parametrize("ctype", ["Patch", "Custom:scan"])
def test_partial_on_other_types_replaces_the_type_like_complete(ssm: Any, ctype: str) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Association", [entry("assoc-1")])
    put(ssm, rid, ctype, [entry("k1"), entry("k2", "HIGH", "NON_COMPLIANT")], upload_type="PARTIAL")
    put(ssm, rid, ctype, [entry("k3", "LOW")], when=at(60), upload_type="PARTIAL")
    assert view(list_items(ssm, rid)) == [
        ("Association", "assoc-1", "LOW", "COMPLIANT", None),
        (ctype, "k3", "LOW", "COMPLIANT", None),
    ]
    [row] = [r for r in rows_of(ssm, rid) if r["ComplianceType"] == ctype]
    assert (row["Status"], row["CompliantSummary"]["CompliantCount"]) == ("COMPLIANT", 1)


@pytest.mark.parametrize("ctype", ["Association", "Patch", "Custom:scan"])
def test_hash_only_partial_put_with_an_unknown_hash_is_refused_and_changes_nothing(
    ssm: Any, ctype: str
) -> None:
    rid = new_instance_id()
    with pytest.raises(ClientError) as info:
        put(ssm, rid, ctype, [], upload_type="PARTIAL", content_hash="never-stored")
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidItemContentException"
    assert "send the full list of items" in error["Message"]
    assert list_items(ssm, rid) == [] and rows_of(ssm, rid) == []

    put(ssm, rid, ctype, [entry("k1", "HIGH", "NON_COMPLIANT")], content_hash="H1")
    before = (list_items(ssm, rid), rows_of(ssm, rid))
    code = error_code(
        put, ssm, rid, ctype, [], when=at(60), upload_type="PARTIAL", content_hash="H2"
    )
    assert code == "InvalidItemContentException"
    assert (list_items(ssm, rid), rows_of(ssm, rid)) == before
    # The stored hash: the put succeeds and keeps the items.
    put(ssm, rid, ctype, [], when=at(90), upload_type="PARTIAL", content_hash="H1")
    assert (list_items(ssm, rid), rows_of(ssm, rid)) == before


def test_partial_put_with_no_items_and_no_hash_is_a_no_op(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("kb1", "HIGH", "NON_COMPLIANT")], execution_id="scan-1")
    before = (list_items(ssm, rid), rows_of(ssm, rid))
    put(ssm, rid, "Patch", [], when=at(60), upload_type="PARTIAL", execution_id="scan-2")
    assert (list_items(ssm, rid), rows_of(ssm, rid)) == before
    put(ssm, new_instance_id(), "Custom:none", [], upload_type="PARTIAL")  # nothing stored: ok


def test_invalid_item_content_body_is_aws_shaped(api: Api) -> None:
    resp = api.error(
        "PutComplianceItems",
        {
            "ResourceId": new_instance_id(),
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": T0_EPOCH},
            "Items": [],
            "UploadType": "PARTIAL",
            "ItemContentHash": "abc",
        },
    )
    assert resp.status == 400
    assert resp.body["__type"] == "InvalidItemContentException"
    assert resp.body["TypeName"] == "AWS:ComplianceItem"
    assert "abc" in resp.body["message"]


def test_duplicate_ids_last_one_wins(ssm: Any) -> None:
    rid = new_instance_id()
    put(
        ssm,
        rid,
        "Custom:dup",
        [
            entry("x", "LOW", title="first"),
            entry("y"),
            entry("x", "CRITICAL", "NON_COMPLIANT", title="last"),
        ],
    )
    assert view(list_items(ssm, rid)) == [
        ("Custom:dup", "x", "CRITICAL", "NON_COMPLIANT", "last"),
        ("Custom:dup", "y", "LOW", "COMPLIANT", None),
    ]
    [row] = rows_of(ssm, rid)
    assert row["NonCompliantSummary"]["NonCompliantCount"] == 1
    assert row["CompliantSummary"]["CompliantCount"] == 1


def test_items_without_id_are_all_kept_after_the_ids(ssm: Any) -> None:
    rid = new_instance_id()
    put(
        ssm,
        rid,
        "Custom:anon",
        [
            entry(title="n1"),
            entry("z"),
            entry(title="n2", severity="HIGH"),
            entry("a"),
            entry(title="n1"),
        ],
    )
    got = list_items(ssm, rid)
    assert [(it.get("Id"), it.get("Title")) for it in got] == [
        ("a", None),
        ("z", None),
        (None, "n1"),
        (None, "n2"),
        (None, "n1"),
    ]
    assert all("Id" not in it for it in got[2:])
    [row] = rows_of(ssm, rid)
    assert row["CompliantSummary"]["CompliantCount"] == 5


def test_empty_execution_id_and_type_are_dropped(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:exec", [entry("a")], execution_id="", execution_type="")
    [item] = list_items(ssm, rid)
    assert set(item["ExecutionSummary"]) == {"ExecutionTime"}
    [row] = rows_of(ssm, rid)
    assert set(row["ExecutionSummary"]) == {"ExecutionTime"}


def test_execution_summary_round_trip(ssm: Any) -> None:
    rid = new_instance_id()
    put(
        ssm,
        rid,
        "Custom:exec",
        [entry("a")],
        when=at(3600),
        execution_id="exec-42",
        execution_type="Command",
    )
    [item] = list_items(ssm, rid)
    summary = item["ExecutionSummary"]
    assert summary["ExecutionId"] == "exec-42" and summary["ExecutionType"] == "Command"
    assert epoch(summary["ExecutionTime"]) == T0_EPOCH + 3600
    assert item["ResourceType"] == "ManagedInstance" and item["ResourceId"] == rid


# --- content hash and execution time (steps 4 and 5) -----------------------------------


def test_same_hash_changes_nothing_whatever_items_hold(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:hh", [entry("a", "HIGH")], content_hash="H1", execution_id="first")
    before = list_items(ssm, rid)
    put(ssm, rid, "Custom:hh", [], content_hash="H1", when=at(60), execution_id="second")
    put(ssm, rid, "Custom:hh", [entry("zz", "LOW")], content_hash="H1", when=at(90))
    assert list_items(ssm, rid) == before
    [row] = rows_of(ssm, rid)
    assert row["ExecutionSummary"]["ExecutionId"] == "first"
    assert epoch(row["ExecutionSummary"]["ExecutionTime"]) == T0_EPOCH


def test_other_hash_applies(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:hh", [entry("a")], content_hash="H1")
    put(ssm, rid, "Custom:hh", [entry("b")], content_hash="H2", when=at(1))
    put(ssm, rid, "Custom:hh", [entry("c")], content_hash="H1", when=at(2))
    assert [it["Id"] for it in list_items(ssm, rid)] == ["c"]


def test_hash_is_per_resource_and_type(ssm: Any) -> None:
    rid, other = new_instance_id(), new_instance_id()
    put(ssm, rid, "Custom:hh", [entry("a")], content_hash="SAME")
    put(ssm, rid, "Custom:gg", [entry("b")], content_hash="SAME")
    put(ssm, other, "Custom:hh", [entry("c")], content_hash="SAME")
    assert [it["Id"] for it in list_items(ssm, rid)] == ["b", "a"]
    assert [it["Id"] for it in list_items(ssm, other)] == ["c"]


def test_put_without_hash_clears_the_stored_hash(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:hh", [entry("a")], content_hash="H1")
    put(ssm, rid, "Custom:hh", [entry("b")], when=at(1))
    put(ssm, rid, "Custom:hh", [entry("c")], content_hash="H1", when=at(2))
    assert [it["Id"] for it in list_items(ssm, rid)] == ["c"]


def test_older_execution_time_changes_nothing(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:tt", [entry("new", "HIGH")], when=at(100), execution_id="new")
    put(ssm, rid, "Custom:tt", [entry("old")], when=at(99), execution_id="old")
    put(ssm, rid, "Custom:tt", [], when=at(50))
    [item] = list_items(ssm, rid)
    assert item["Id"] == "new"
    [row] = rows_of(ssm, rid)
    assert row["ExecutionSummary"]["ExecutionId"] == "new"


def test_equal_and_newer_execution_times_apply(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:tt", [entry("one")], when=at(100))
    put(ssm, rid, "Custom:tt", [entry("two")], when=at(100))
    assert [it["Id"] for it in list_items(ssm, rid)] == ["two"]
    put(ssm, rid, "Custom:tt", [entry("three")], when=at(101))
    assert [it["Id"] for it in list_items(ssm, rid)] == ["three"]


def test_execution_time_is_per_type(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:tt", [entry("a")], when=at(100))
    put(ssm, rid, "Custom:uu", [entry("b")], when=at(1))
    assert [it["ComplianceType"] for it in list_items(ssm, rid)] == ["Custom:tt", "Custom:uu"]


# --- atomicity (step 8) ----------------------------------------------------------------


def test_concurrent_puts_never_mix(server: Server, tenant: Tenant) -> None:
    rid = new_instance_id()
    writers = [make_client(server, tenant) for _ in range(2)]
    reader = make_client(server, tenant)
    sets = {name: [entry(f"{name}{i:02d}", title=name) for i in range(20)] for name in "AB"}
    put(reader, rid, "Custom:mix", sets["A"])
    failures: list[BaseException] = []

    def write(client: Any, name: str) -> None:
        try:
            for _ in range(15):
                put(client, rid, "Custom:mix", sets[name], when=T0)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(c, n)) for c, n in zip(writers, "AB", strict=True)
    ]
    for t in threads:
        t.start()
    seen: list[set[str]] = []
    while any(t.is_alive() for t in threads):
        got = list_items(reader, rid)
        seen.append({it["Title"] for it in got})
        assert len(got) == 20, [it["Id"] for it in got]
    for t in threads:
        t.join()
    assert not failures, failures
    assert all(len(titles) == 1 for titles in seen), seen
