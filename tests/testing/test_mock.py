"""mock_compliance(): the compliance calls of every client go to an in-process complyd, and only
while the context lasts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from complyd.config import AccessKey, Settings
from complyd.testing import mock_compliance
from tests.api.harness import REPO, new_account, server_env
from tests.api.reference import entry, put

from .calls import RID, client, item_ids, put_one

UNREACHABLE = "http://complyd.invalid:9"  # never resolves: only the mock can answer


def failure(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return status, response["Error"]["Code"], response["Error"]["Message"]


def test_calls_are_answered_in_process_with_no_server() -> None:
    with mock_compliance():
        ssm = client(UNREACHABLE, account=new_account())
        put_one(ssm)
        assert item_ids(ssm) == ["disk"]
        rows = ssm.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
        assert [(r["ResourceId"], r["Status"], r["OverallSeverity"]) for r in rows] == [
            (RID, "NON_COMPLIANT", "HIGH")
        ]
        fleet = ssm.list_compliance_summaries()["ComplianceSummaryItems"]
        assert [row["ComplianceType"] for row in fleet] == ["FleetTotal", "Custom:Disk"]


def test_state_lasts_for_the_context_and_each_context_starts_empty() -> None:
    account = new_account()
    with mock_compliance():
        put_one(client(UNREACHABLE, account=account), "first")
        assert item_ids(client(account=account)) == ["first"]  # any client, any endpoint
    with mock_compliance():
        assert item_ids(client(UNREACHABLE, account=account)) == []


def test_tenants_are_kept_apart_as_by_the_server() -> None:
    with mock_compliance():
        put_one(client(UNREACHABLE, account="111111111111"))
        assert item_ids(client(UNREACHABLE, account="222222222222")) == []
        assert item_ids(client(UNREACHABLE, account="111111111111")) == ["disk"]


BAD_CALLS: list[tuple[str, dict[str, Any]]] = [
    (
        "put_compliance_items",
        {
            "ResourceId": RID,
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Custom:X",
            "ExecutionSummary": {"ExecutionTime": 1700000000},
            "Items": [entry("a")],
        },
    ),
    (
        "put_compliance_items",
        {
            "ResourceId": RID,
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": 1700000000},
            "Items": [],
            "UploadType": "PARTIAL",
            "ItemContentHash": "never-stored",
        },
    ),
    ("list_compliance_items", {"ResourceIds": ["web-01"]}),
    ("list_compliance_items", {"Filters": [{"Key": "Foo", "Values": ["x"]}]}),
    ("list_compliance_summaries", {"NextToken": "not-a-token"}),
    ("list_resource_compliance_summaries", {"MaxResults": 0}),
]


@pytest.mark.parametrize(("operation", "kwargs"), BAD_CALLS, ids=lambda v: str(v)[:40])
def test_errors_are_the_servers(complyd_server: str, operation: str, kwargs: Any) -> None:
    account = new_account()
    real = client(complyd_server, account, validate=False)
    expected = failure(getattr(real, operation), **kwargs)
    with mock_compliance():
        mocked = client(UNREACHABLE, account, validate=False)
        assert failure(getattr(mocked, operation), **kwargs) == expected
    assert expected[0] == 400


def test_after_the_context_calls_go_where_they_are_sent(complyd_server: str) -> None:
    ssm = client(complyd_server, new_account())
    with mock_compliance():
        put_one(ssm, "in-process")
        assert item_ids(ssm) == ["in-process"]
    # The real server never saw the put made while the mock was active.
    assert item_ids(ssm) == []
    put_one(ssm, "on-the-server")
    assert item_ids(ssm) == ["on-the-server"]
    with mock_compliance():
        assert item_ids(ssm) == []
    assert item_ids(ssm) == ["on-the-server"]
    with pytest.raises(Exception, match="complyd.invalid"):
        client(UNREACHABLE, new_account()).list_compliance_items()


def test_a_mock_for_one_endpoint_leaves_the_others_alone(complyd_server: str) -> None:
    account = new_account()
    with mock_compliance(endpoint_url=UNREACHABLE + "/") as complyd:
        assert complyd.endpoint_url == UNREACHABLE
        mocked, real = client(UNREACHABLE, account), client(complyd_server, account)
        put_one(mocked, "mocked")
        put_one(real, "real")
        assert item_ids(mocked) == ["mocked"]
        assert item_ids(real) == ["real"]


def test_the_innermost_mock_answers() -> None:
    account = new_account()
    with mock_compliance():
        put_one(client(UNREACHABLE, account), "outer")
        with mock_compliance():
            assert item_ids(client(UNREACHABLE, account)) == []
        assert item_ids(client(UNREACHABLE, account)) == ["outer"]


def test_settings_are_applied() -> None:
    ssm_any = client(UNREACHABLE, new_account())
    with mock_compliance(Settings(any_resource_id=True)):
        put_one(ssm_any, "a", resource_id="web-01")
        assert item_ids(ssm_any, "web-01") == ["a"]
    with mock_compliance():
        status, code, _ = failure(put_one, ssm=ssm_any, item_id="a", resource_id="web-01")
        assert (status, code) == (400, "InvalidResourceId")


def test_configured_keys_verify_each_signature() -> None:
    key = AccessKey("CKTESTKEY0000001", "s" * 32, "333333333333")
    with mock_compliance(Settings(credentials={key.access_key_id: key})):
        good = client(UNREACHABLE, key.access_key_id, secret=key.secret_access_key)
        put_one(good)
        assert item_ids(good) == ["disk"]
        wrong = client(UNREACHABLE, key.access_key_id, secret="t" * 32)
        assert failure(wrong.list_compliance_items)[1] == "InvalidSignatureException"
        unknown = client(UNREACHABLE, "CKUNKNOWNKEY0001", secret="s" * 32)
        assert failure(unknown.list_compliance_items)[1] == "UnrecognizedClientException"


def test_raw_requests_reach_the_same_application() -> None:
    with mock_compliance() as complyd:
        assert complyd.request("GET", "/healthz").status == 200
        reply = complyd.request(
            "POST", "/", headers={"X-Amz-Target": "AmazonSSM.ListComplianceItems"}, body=b"{}"
        )
        assert reply.status == 400
        assert b"MissingAuthenticationTokenException" in reply.body
        assert reply.headers["x-amzn-requestid"]


def test_clients_on_many_threads_share_the_store() -> None:
    account = new_account()
    resources = [f"i-{n:017x}" for n in range(1, 9)]
    with mock_compliance():
        errors: list[BaseException] = []

        def report(resource_id: str) -> None:
            try:
                put(client(UNREACHABLE, account), resource_id, "Patch", [entry("kb1")])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=report, args=(rid,)) for rid in resources]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        rows = client(UNREACHABLE, account).list_resource_compliance_summaries()
        listed = sorted(r["ResourceId"] for r in rows["ResourceComplianceSummaryItems"])
        assert listed == resources


@pytest.mark.usefixtures("no_env_credentials")
def test_without_credentials_in_the_environment_it_supplies_test_ones() -> None:
    with mock_compliance():
        put_one(client(UNREACHABLE))
        assert item_ids(client(UNREACHABLE, "123456789012")) == ["disk"]
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    with pytest.raises(NoCredentialsError):
        client(UNREACHABLE).list_compliance_items()


@pytest.mark.usefixtures("no_env_credentials")
def test_credentials_in_the_environment_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "444444444444")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_compliance():
        put_one(client(UNREACHABLE))
        assert item_ids(client(UNREACHABLE, "444444444444")) == ["disk"]
    assert os.environ["AWS_ACCESS_KEY_ID"] == "444444444444"


def test_importing_complyd_testing_needs_no_pytest() -> None:
    code = "import sys; sys.modules['pytest'] = None; import complyd.testing; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), cwd=REPO, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.strip() == b"ok"
