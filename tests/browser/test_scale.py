"""The dashboard on a store of 100,000 resources: every view loads fast, because the fleet view
reads the resource counters the puts keep (never items) and the other views read one keyset
page each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from complyd.config import Settings, database_url
from complyd.model import ExecutionSummary, ItemEntry, PutRequest, Severity, Status, Tenant
from complyd.service import ComplianceService
from complyd.storage.sql import SqlStore

from .conftest import Complyd, Opener, screenshot, table_rows

RESOURCES = 100_000
ACCOUNT, REGION = "555566667777", "us-east-1"
SEVERITIES = list(Severity)
PUTS_IN_FLIGHT = 5_000
# Budgets for one page load in the browser; measured ~0.3 s (fleet) and ~0.1 s (others).
FLEET_BUDGET_S = 3.0
PAGE_BUDGET_S = 1.0


def resource_id(n: int) -> str:
    return f"i-{n:017x}"


def put_request(n: int, compliance_type: str) -> PutRequest:
    """One item per (resource, type): every 10th resource non-compliant, severities in turn."""
    status = Status.NON_COMPLIANT if n % 10 == 0 else Status.COMPLIANT
    entry = ItemEntry(
        SEVERITIES[n % len(SEVERITIES)],
        status,
        id="check",
        title=f"Check on {resource_id(n)}",
        details={"DocumentName": "AWS-RunPatchBaseline"},
    )
    execution = ExecutionSummary(1_772_000_000_000 + n, f"run-{n}", "Command")
    return PutRequest(resource_id(n), "ManagedInstance", compliance_type, execution, [entry], 40)


def build_store(path: Path) -> None:
    """Patch on every resource and Custom:Scale on every other: 150,000 (resource, type) rows,
    put through the service in-process (the server's own write path, without HTTP)."""
    store = SqlStore(database_url(str(path)))
    service = ComplianceService(store, Settings())
    tenant = Tenant(ACCOUNT, REGION)
    pending: list[Future[Any]] = []
    for n in range(RESOURCES):
        for compliance_type in ("Custom:Scale", "Patch") if n % 2 == 0 else ("Patch",):
            pending.append(service.submit_put(tenant, put_request(n, compliance_type)))
        if len(pending) >= PUTS_IN_FLIGHT:
            for done in pending:
                done.result()
            pending.clear()
    for done in pending:
        done.result()
    store.close()


@pytest.fixture(scope="module")
def large_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Complyd]:
    directory = tmp_path_factory.mktemp("scale")
    build_store(directory / "complyd.db")
    server = Complyd(directory).start()
    yield server
    server.stop()


def load(page: Any, url: str) -> float:
    started = time.perf_counter()
    response = page.goto(url)
    elapsed = time.perf_counter() - started
    assert response is not None and response.status == 200
    return elapsed


def test_views_load_fast_on_100k_resources(large_server: Complyd, open_page: Opener) -> None:
    page = open_page(large_server)
    base = large_server.url + "/ui"
    timings: dict[str, float] = {}

    timings["fleet"] = load(page, base + "/")
    total = page.locator("section.card").first
    assert table_rows(total.get_by_role("table"))[0][:2] == ["Non-compliant", "10,000"]
    assert table_rows(total.get_by_role("table"))[1][:2] == ["Compliant", "90,000"]
    expect(page.locator("section.card h2")).to_have_text(["Fleet total", "Custom:Scale", "Patch"])
    screenshot(page, "fleet-100k")

    timings["resources"] = load(page, base + "/resources")
    timings["filtered"] = load(
        page, base + "/resources?compliance_type=Patch&status=NON_COMPLIANT&severity=CRITICAL"
    )
    rows = table_rows(page.locator("#resource-table"))
    assert len(rows) == 50 and all(
        row[1:4] == ["Patch", "Non-compliant", "Critical"] for row in rows
    )
    # A page deep in the table costs what the first does (keyset, not offset).
    deep = resource_id(99_990)
    timings["deep page"] = load(
        page, base + f"/resources?after_resource={deep}&after_type=Patch&page=2000"
    )
    assert table_rows(page.locator("#resource-table"))[0][0] == resource_id(99_991)
    timings["no match"] = load(page, base + "/resources?resource_id=i-zzz")
    timings["node"] = load(page, base + f"/resources/{resource_id(42_000)}")
    expect(page.locator("table.items caption")).to_have_text(
        ["Custom:Scale items: 1", "Patch items: 1"]
    )

    print("page loads on 100,000 resources:", {k: f"{v:.3f}s" for k, v in timings.items()})
    assert timings.pop("fleet") < FLEET_BUDGET_S
    slow = {name: seconds for name, seconds in timings.items() if seconds > PAGE_BUDGET_S}
    assert slow == {}, f"pages over {PAGE_BUDGET_S}s: {slow}"
