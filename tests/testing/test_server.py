"""run_server() and the complyd_server fixture: a real `complyd serve` on a free port."""

from __future__ import annotations

import urllib.request

import pytest

from complyd.testing import ServerStartError, run_server
from tests.api.harness import new_account

from .calls import client, item_ids, put_one


def test_the_fixture_is_a_real_server(complyd_server: str) -> None:
    assert complyd_server.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(complyd_server + "/healthz", timeout=5) as resp:
        assert resp.status == 200
    ssm = client(complyd_server, new_account())
    put_one(ssm)
    assert item_ids(ssm) == ["disk"]


def test_options_are_passed_and_the_process_stops() -> None:
    with run_server("--any-resource-id") as server:
        ssm = client(server.url, new_account())
        put_one(ssm, "a", resource_id="web-01")
        assert item_ids(ssm, "web-01") == ["a"]
        assert server.db.is_file()
    assert server.process.poll() is not None
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/healthz", timeout=2)


def test_a_server_that_cannot_start_says_why() -> None:
    with pytest.raises(ServerStartError, match="max-body-size"):
        with run_server("--max-body-size", "0"):
            pass
