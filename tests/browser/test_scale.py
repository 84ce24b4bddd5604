"""The dashboard on a store of 100,000 resources: every view loads fast, because the fleet view
reads summary rows (never items) and the other views read one keyset page each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from complyd.config import database_url
from complyd.model import Severity
from complyd.storage.schema import (
    COMPLIANT_COLUMNS,
    NON_COMPLIANT_COLUMNS,
    compliance_items,
    resource_summaries,
)
from complyd.storage.sql import SqlStore

from .conftest import Complyd, Opener, screenshot, table_rows

RESOURCES = 100_000
ACCOUNT, REGION = "555566667777", "us-east-1"
SEVERITIES = list(Severity)
# Budgets for one page load, schema-to-pixels; measured ~0.4 s (fleet) and <0.1 s (others).
FLEET_BUDGET_S = 3.0
PAGE_BUDGET_S = 1.0


def resource_id(n: int) -> str:
    return f"i-{n:017x}"


def rows_for(n: int, compliance_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One (resource, type) summary row and its one item: every 10th non-compliant."""
    non_compliant = n % 10 == 0
    severity = SEVERITIES[n % len(SEVERITIES)]
    status = "NON_COMPLIANT" if non_compliant else "COMPLIANT"
    key = {
        "account_id": ACCOUNT,
        "region": REGION,
        "resource_id": resource_id(n),
        "compliance_type": compliance_type,
        "execution_time_ms": 1_772_000_000_000 + n,
        "execution_id": f"run-{n}",
        "execution_type": "Command",
    }
    counts = dict.fromkeys((*COMPLIANT_COLUMNS, *NON_COMPLIANT_COLUMNS), 0)
    columns = NON_COMPLIANT_COLUMNS if non_compliant else COMPLIANT_COLUMNS
    counts[columns[SEVERITIES.index(severity)]] = 1
    summary = {
        **key,
        **counts,
        "resource_type": "ManagedInstance",
        "status": status,
        "overall_severity": severity.value,
        "content_hash": None,
        "patch_group": None,
        "total_size": 40,
    }
    item = {
        **key,
        "item_key": "acheck",
        "item_id": "check",
        "title": f"Check on {resource_id(n)}",
        "status": status,
        "severity": severity.value,
        "details": {"DocumentName": "AWS-RunPatchBaseline"},
        "size": 40,
    }
    return summary, item


def build_store(path: Path) -> None:
    """Patch on every resource and Custom:Scale on every other: 150,000 summary rows."""
    url = database_url(str(path))
    SqlStore(url).close()  # the schema, through the migrations
    summaries, items = [], []
    for n in range(RESOURCES):
        for compliance_type in ("Custom:Scale", "Patch") if n % 2 == 0 else ("Patch",):
            summary, item = rows_for(n, compliance_type)
            summaries.append(summary)
            items.append(item)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(resource_summaries), summaries)
        conn.execute(sa.insert(compliance_items), items)
    engine.dispose()  # the last connection closing checkpoints the WAL


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
