"""Decisions 13 and 15: data, put state and page tokens survive a restart on the same --db."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import Server, Tenant, make_client, new_instance_id, new_tenant
from .reference import (
    at,
    entry,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    put,
)


def snapshot(ssm: Any) -> tuple[list[Any], list[Any], list[Any]]:
    return list_items(ssm), list_resource_summaries(ssm), list_compliance_summaries(ssm)


@pytest.fixture
def private(server_factory: Any) -> Server:
    srv: Server = server_factory()
    return srv


def test_data_and_put_state_survive_restart(private: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(private, tenant)
    rid = new_instance_id()
    put(
        ssm,
        rid,
        "Patch",
        [entry("kb1", "HIGH", "NON_COMPLIANT", details={"PatchGroup": "web"})],
        when=at(100),
        execution_id="scan",
        content_hash="H1",
    )
    put(ssm, rid, "Association", [entry("a1"), entry("a2", "LOW", "NON_COMPLIANT")], when=at(100))
    put(ssm, rid, "Custom:app", [entry(title="no id"), entry("c1", "CRITICAL")])
    before = snapshot(ssm)
    token = ssm.list_compliance_items(ResourceIds=[rid], MaxResults=2)["NextToken"]
    expected_rest = list_items(ssm, rid)[2:]

    private.restart()
    ssm = make_client(private, tenant)
    assert snapshot(ssm) == before
    # A token issued before the restart still pages on.
    assert list_items(ssm, rid, MaxResults=2, NextToken=token) == expected_rest
    # The stored hash still short-circuits, and the stored time still wins over older puts.
    put(ssm, rid, "Patch", [], when=at(200), content_hash="H1")
    put(ssm, rid, "Association", [entry("late")], when=at(50))
    assert snapshot(ssm) == before
    # Newer puts still apply after the restart.
    put(ssm, rid, "Association", [entry("fresh")], when=at(101))
    assert "fresh" in {it.get("Id") for it in list_items(ssm, rid)}


def test_acknowledged_put_survives_a_kill(private: Server) -> None:
    ssm = make_client(private, Tenant("123456789012"))
    rid = new_instance_id()
    put(ssm, rid, "Custom:kill", [entry("acked", "MEDIUM")])
    private.restart(signal.SIGKILL)
    got = list_items(make_client(private, Tenant("123456789012")), rid)
    assert [(it["Id"], it["Severity"]) for it in got] == [("acked", "MEDIUM")]


def test_tokens_still_checked_after_restart(private: Server) -> None:
    tenant = new_tenant()
    ssm = make_client(private, tenant)
    for _ in range(3):
        put(ssm, new_instance_id(), "Patch", [entry("p")])
    token = ssm.list_resource_compliance_summaries(MaxResults=1)["NextToken"]
    private.restart()
    ssm = make_client(private, tenant)
    assert (
        len(
            ssm.list_resource_compliance_summaries(MaxResults=1, NextToken=token)[
                "ResourceComplianceSummaryItems"
            ]
        )
        == 1
    )
    other = make_client(private, new_tenant())
    with pytest.raises(ClientError) as info:
        other.list_resource_compliance_summaries(MaxResults=1, NextToken=token)
    assert info.value.response["Error"]["Code"] == "InvalidNextToken"
