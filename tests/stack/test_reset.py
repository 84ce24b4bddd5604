"""POST /_complyd/reset empties exactly what it names, on every store, and nothing else.

Three tenants (two regions of one account, and another account) hold items, summary rows,
fleet counters, history and undelivered events; a reset of one leaves the other two exactly
as they were, and a reset of all leaves nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from complyd.testing import run_server
from complyd.testing.server import free_port
from tests.api.harness import launch
from tests.api.reference import (
    at,
    entry,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    put,
)
from tests.conftest import require_postgres
from tests.operator.runner import complyd, json_lines
from tests.postgres import schemas

from .conftest import ssm_client

A = ("111111111111", "us-east-1")
B = ("111111111111", "eu-west-1")  # same account as A, other region
C = ("222222222222", "us-east-1")  # same region as A, other account
NODE, OTHER = "i-0123456789abcdef0", "i-0fedcba9876543210"


@dataclass
class Stack:
    url: str
    db: str | None  # None: the in-memory store, which no CLI can open


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    # Events pile up in the outbox: the webhook is a port nobody listens on.
    webhook = ("--webhook", f"http://127.0.0.1:{free_port()}/", "--webhook-secret", "s")
    with ExitStack() as stack:
        if request.param == "memory":
            server = stack.enter_context(run_server(*webhook, memory=True))
            yield Stack(server.url, None)
            return
        db: str = str(tmp_path / "complyd.db")
        if request.param == "postgres":
            db = stack.enter_context(schemas(require_postgres())).new("reset")
        srv = launch(tmp_path / "srv", webhook, db=db)
        stack.callback(srv.stop)
        yield Stack(srv.url, db)


def reset(url: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + "/_complyd/reset", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def tenant_body(tenant: tuple[str, str]) -> bytes:
    return json.dumps({"AccountId": tenant[0], "Region": tenant[1]}).encode()


def fill(url: str) -> None:
    ssm = ssm_client(url, A[0], region=A[1])
    put(ssm, NODE, "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT")], when=at(0))
    put(ssm, NODE, "Patch", [entry("KB1", "CRITICAL", "COMPLIANT")], when=at(10))
    put(ssm, OTHER, "Custom:Disk", [entry("root", "LOW", "COMPLIANT")])
    for account, region in (B, C):
        ssm = ssm_client(url, account, region=region)
        put(ssm, NODE, "Patch", [entry(f"KB-{region}", "HIGH", "NON_COMPLIANT")])


def view(url: str, tenant: tuple[str, str]) -> dict[str, Any]:
    """Everything the API shows of one tenant."""
    ssm = ssm_client(url, tenant[0], region=tenant[1])
    return {
        "items": list_items(ssm),
        "rows": list_resource_summaries(ssm),
        "fleet": list_compliance_summaries(ssm),
    }


def empty_view(url: str, tenant: tuple[str, str]) -> bool:
    shown = view(url, tenant)
    [fleet_total] = shown["fleet"]
    counted = (
        fleet_total["CompliantSummary"]["CompliantCount"],
        fleet_total["NonCompliantSummary"]["NonCompliantCount"],
    )
    return shown["items"] == [] and shown["rows"] == [] and counted == (0, 0)


def metrics(url: str) -> tuple[set[tuple[str, str]], float]:
    """(tenants with compliance gauges, events pending)."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        families = {f.name: f.samples for f in text_string_to_metric_families(resp.read().decode())}
    tenants = {(s.labels["account_id"], s.labels["region"]) for s in families["complyd_resources"]}
    [pending] = families["complyd_events_pending"]
    return tenants, pending.value


def history(db: str, tenant: tuple[str, str], node: str) -> list[Any]:
    who = ("--db", db, "--account", tenant[0], "--region", tenant[1])
    return json_lines(complyd("history", node, *who, "--json").stdout)


def test_a_reset_of_one_tenant_leaves_the_others_exactly_as_they_were(stack: Stack) -> None:
    fill(stack.url)
    before = {t: view(stack.url, t) for t in (B, C)}
    tenants, pending = metrics(stack.url)
    # A: a new row, its flip and a second new row; B and C: one new row each.
    assert (tenants, pending) == ({A, B, C}, 5)

    assert reset(stack.url, tenant_body(A)) == (200, {})

    assert empty_view(stack.url, A)
    assert {t: view(stack.url, t) for t in (B, C)} == before
    assert metrics(stack.url) == ({B, C}, 2)
    if stack.db is not None:
        assert history(stack.db, A, NODE) == []
        assert [e["Status"] for e in history(stack.db, B, NODE)] == ["NON_COMPLIANT"]

    # Counters start again from nothing: a put after the reset is counted once.
    ssm = ssm_client(stack.url, A[0], region=A[1])
    put(ssm, NODE, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(20))
    [fleet_total, patch] = list_compliance_summaries(ssm)
    for row in (fleet_total, patch):
        assert row["NonCompliantSummary"]["NonCompliantCount"] == 1
        assert row["CompliantSummary"]["CompliantCount"] == 0


def test_a_reset_of_every_tenant_leaves_nothing(stack: Stack) -> None:
    fill(stack.url)
    assert reset(stack.url) == (200, {})
    for tenant in (A, B, C):
        assert empty_view(stack.url, tenant)
    assert metrics(stack.url) == (set(), 0)
    if stack.db is not None:
        assert history(stack.db, B, NODE) == []
    # An empty JSON object means every tenant too, and the store keeps working.
    fill(stack.url)
    assert reset(stack.url, b"{}") == (200, {})
    assert metrics(stack.url) == (set(), 0)


def test_a_reset_of_a_tenant_with_nothing_stored_changes_nothing(stack: Stack) -> None:
    fill(stack.url)
    before = {t: view(stack.url, t) for t in (A, B, C)}
    assert reset(stack.url, tenant_body(("333333333333", "us-east-1"))) == (200, {})
    assert {t: view(stack.url, t) for t in (A, B, C)} == before
