"""mock_compliance() beside moto's mock_aws: parameters (and every other call) go to moto,
compliance calls to complyd, whichever of the two is entered first."""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from typing import Any

import boto3
import pytest
from moto import mock_aws

from complyd.testing import mock_compliance

from .calls import RID, item_ids, put_one

ORDERS = {
    "moto-outside": (mock_aws, mock_compliance),
    "complyd-outside": (mock_compliance, mock_aws),
}


def ssm_client() -> Any:
    # Credentials come from the environment the mocks set up.
    return boto3.client("ssm", region_name="us-east-1")


def check_both(ssm: Any) -> None:
    ssm.put_parameter(Name="/app/patch-window", Value="sun-02:00", Type="String")
    assert ssm.get_parameter(Name="/app/patch-window")["Parameter"]["Value"] == "sun-02:00"
    put_one(ssm)
    assert item_ids(ssm) == ["disk"]
    rows = ssm.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
    assert [(r["ResourceId"], r["ComplianceType"]) for r in rows] == [(RID, "Custom:Disk")]
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert names == ["/app/patch-window"]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="compliance-reports")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["compliance-reports"]


@pytest.mark.parametrize("order", ORDERS)
def test_context_managers_in_either_order(order: str) -> None:
    outer, inner = ORDERS[order]
    with ExitStack() as stack:
        mocks: list[AbstractContextManager[Any]] = [outer(), inner()]
        for mock in mocks:
            stack.enter_context(mock)
        check_both(ssm_client())


@pytest.mark.parametrize("order", ORDERS)
def test_decorators_in_either_order(order: str) -> None:
    outer, inner = ORDERS[order]

    @outer()
    @inner()
    def scenario() -> str:
        check_both(ssm_client())
        return "done"

    assert scenario() == "done"


def test_a_client_made_before_complyd_starts_is_answered_by_it() -> None:
    with mock_aws():
        ssm = ssm_client()
        ssm.put_parameter(Name="/before", Value="1", Type="String")
        with mock_compliance():
            put_one(ssm)
            assert item_ids(ssm) == ["disk"]
        # complyd is gone: moto alone answers again, and it does not implement compliance.
        with pytest.raises(NotImplementedError):
            ssm.list_compliance_items()
        assert ssm.get_parameter(Name="/before")["Parameter"]["Value"] == "1"
