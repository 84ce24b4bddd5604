"""The pytest plugin: installed through the pytest11 entry point, it gives any project the
complyd_mock and complyd_server fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import boto3
import pytest
from complyd.testing import ComplianceMock

RID = "i-0123456789abcdef0"


def ssm():
    return boto3.client("ssm", region_name="us-east-1",
                        aws_access_key_id="123456789012", aws_secret_access_key="x")


def put(client, item_id):
    client.put_compliance_items(
        ResourceId=RID, ResourceType="ManagedInstance", ComplianceType="Custom:Disk",
        ExecutionSummary={"ExecutionTime": 1700000000},
        Items=[{"Id": item_id, "Severity": "HIGH", "Status": "NON_COMPLIANT"}])


def ids(client):
    return [i["Id"] for i in client.list_compliance_items(ResourceIds=[RID])["ComplianceItems"]]


def test_first(complyd_mock):
    assert isinstance(complyd_mock, ComplianceMock)
    put(ssm(), "first")
    assert ids(ssm()) == ["first"]


def test_second_starts_empty(complyd_mock):
    assert ids(ssm()) == []


def test_errors_are_complyds(complyd_mock):
    with pytest.raises(ssm().exceptions.InvalidResourceId):
        ssm().list_compliance_items(ResourceIds=["web-01"])
"""


SERVER_TEST = """
import boto3

RID = "i-0123456789abcdef0"
pids = []


def ssm(url):
    return boto3.client("ssm", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="123456789012", aws_secret_access_key="x")


def ids(client):
    return [i["Id"] for i in client.list_compliance_items(ResourceIds=[RID])["ComplianceItems"]]


def test_first(complyd_server, complyd_server_process):
    pids.append(complyd_server_process.process.pid)
    ssm(complyd_server).put_compliance_items(
        ResourceId=RID, ResourceType="ManagedInstance", ComplianceType="Custom:Disk",
        ExecutionSummary={"ExecutionTime": 1700000000},
        Items=[{"Id": "first", "Severity": "HIGH", "Status": "NON_COMPLIANT"}])
    assert ids(ssm(complyd_server)) == ["first"]


def test_second_starts_empty_on_the_same_server(complyd_server, complyd_server_process):
    assert complyd_server_process.process.pid == pids[0]
    assert complyd_server_process.db is None
    assert ids(ssm(complyd_server)) == []
"""


def test_fixtures_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*complyd_mock*", "complyd_server_process [[]session scope[]]*", "complyd_server -- *"]
    )
    assert result.ret == 0


def test_complyd_server_is_emptied_between_tests_not_restarted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=SERVER_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_users_tests_run_on_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_mock(complyd_mock):\n    pass\n")
    result = pytester.runpytest("-p", "no:complyd", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'complyd_mock' not found*"])
