"""mock_compliance() as a decorator, and its start()/stop() form."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from complyd.testing import ComplianceMock, mock_compliance
from tests.api.harness import new_account

from .calls import client, item_ids, put_one

UNREACHABLE = "http://complyd.invalid:9"
ACCOUNT = new_account()


@mock_compliance()
def report(item_id: str) -> list[str]:
    ssm = client(UNREACHABLE, ACCOUNT)
    before = item_ids(ssm)
    put_one(ssm, item_id)
    return before + item_ids(ssm)


def test_each_call_runs_on_an_empty_store() -> None:
    assert report("first") == ["first"]
    assert report("second") == ["second"]
    assert report.__name__ == "report"


@mock_compliance()
def test_a_decorated_test_keeps_its_fixtures(tmp_path: Path) -> None:
    assert tmp_path.is_dir()
    ssm = client(UNREACHABLE, ACCOUNT)
    put_one(ssm)
    assert item_ids(ssm) == ["disk"]


def test_async_functions_run_inside_the_mock() -> None:
    @mock_compliance()
    async def scenario() -> list[str]:
        await asyncio.sleep(0)
        ssm = client(UNREACHABLE, ACCOUNT)
        put_one(ssm, "async")
        return item_ids(ssm)

    # A thread of its own: other suites (Playwright's sync API) may hold a running loop here.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == ["async"]
    with pytest.raises(Exception, match="complyd.invalid"):
        client(UNREACHABLE, ACCOUNT).list_compliance_items()


def test_classes_are_refused() -> None:
    with pytest.raises(TypeError, match="complyd_mock"):
        mock_compliance()(type("Suite", (), {}))


def test_start_and_stop() -> None:
    mock = mock_compliance()
    running = mock.start()
    try:
        assert isinstance(running, ComplianceMock)
        put_one(client(UNREACHABLE, ACCOUNT))
        assert item_ids(client(UNREACHABLE, ACCOUNT)) == ["disk"]
    finally:
        mock.stop()
    with pytest.raises(RuntimeError, match="without a matching start"):
        mock.stop()
    with pytest.raises(Exception, match="complyd.invalid"):
        client(UNREACHABLE, ACCOUNT).list_compliance_items()


def test_one_object_entered_twice_nests() -> None:
    mock = mock_compliance()
    with mock:
        put_one(client(UNREACHABLE, ACCOUNT), "outer")
        with mock:
            assert item_ids(client(UNREACHABLE, ACCOUNT)) == []
        assert item_ids(client(UNREACHABLE, ACCOUNT)) == ["outer"]
