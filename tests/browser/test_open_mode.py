"""The dashboard in open mode, as a person uses it: pick a tenant, read the fleet charts, follow
them to the filtered resource table and on to one node's items."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    B1,
    OTHER_REGION,
    R1,
    R2,
    R3,
    REGION,
    Complyd,
    Opener,
    accessibility_problems,
    bulk_id,
    screenshot,
    table_rows,
)

RESOURCE_TABLE = re.compile(r"^Compliance by resource and type")


def choose_tenant(page: Any, account: str, region: str) -> None:
    page.get_by_label("Account and region").select_option(label=f"{account} · {region}")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".context")).to_contain_text(f"Account {account}, region {region}")


def card(page: Any, name: str) -> Any:
    return page.locator("section.card").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def resource_rows(page: Any) -> list[list[str]]:
    return table_rows(page.get_by_role("table", name=RESOURCE_TABLE))


def test_fleet_view_charts_each_type_and_the_fleet_total(
    open_server: Complyd, open_page: Opener
) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui")
    picker = page.get_by_label("Account and region")
    # The largest tenant first, then the others (one resource each) by account and region.
    expect(picker.locator("option")).to_have_text(
        [f"{ACCOUNT_A} · {REGION}", f"{ACCOUNT_A} · {OTHER_REGION}", f"{ACCOUNT_B} · {REGION}"]
    )
    # Nothing chosen yet: the largest tenant is shown.
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_A}, region {REGION}")
    choose_tenant(page, ACCOUNT_B, REGION)
    choose_tenant(page, ACCOUNT_A, REGION)

    expect(page.get_by_role("heading", level=1)).to_have_text("Fleet compliance")
    expect(page.locator("section.card h2")).to_have_text(
        ["Fleet total", "Association", "Custom:Bulk", "Custom:DiskEncryption", "Patch"]
    )
    total = card(page, "Fleet total")
    expect(total.get_by_role("img").first).to_have_accessible_name(
        "121 of 123 resources compliant (98%), 2 non-compliant"
    )
    #                    status          total  crit  high  med  low  info unsp
    assert table_rows(total.get_by_role("table")) == [
        ["Non-compliant", "2", "1", "1", "0", "0", "0", "0"],
        ["Compliant", "121", "0", "0", "1", "120", "0", "0"],
    ]
    assert table_rows(card(page, "Patch").get_by_role("table")) == [
        ["Non-compliant", "1", "1", "0", "0", "0", "0", "0"],
        ["Compliant", "1", "0", "0", "1", "0", "0", "0"],
    ]
    assert table_rows(card(page, "Custom:Bulk").get_by_role("table")) == [
        ["Non-compliant", "0", "0", "0", "0", "0", "0", "0"],
        ["Compliant", "120", "0", "0", "0", "120", "0", "0"],
    ]
    # The charts: Patch's non-compliant bar is all critical; Association's donut is half green.
    patch_bars = card(page, "Patch").locator("svg.bar")
    expect(patch_bars.first).to_have_accessible_name(
        "Non-compliant resources by severity: 1 critical"
    )
    expect(patch_bars.first.locator("rect.fill-CRITICAL")).to_have_attribute("width", "100.0")
    association = card(page, "Association")
    expect(association.locator("circle.ring-COMPLIANT")).to_have_attribute(
        "stroke-dasharray", "50.0 50.0"
    )
    expect(association.locator("svg.donut text").first).to_have_text("50%")
    assert accessibility_problems(page) == []
    screenshot(page, "fleet")


def test_fleet_links_lead_to_filtered_resources_and_on_to_the_node(
    open_server: Complyd, open_page: Opener
) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui/")
    choose_tenant(page, ACCOUNT_A, REGION)
    card(page, "Patch").get_by_role("link", name="1 non-compliant critical").click()

    expect(page).to_have_url(
        re.compile(r"/ui/resources\?compliance_type=Patch&status=NON_COMPLIANT&severity=CRITICAL$")
    )
    expect(page.get_by_label("Compliance type")).to_have_value("Patch")
    expect(page.get_by_label("Status")).to_have_value("NON_COMPLIANT")
    expect(page.get_by_label("Overall severity")).to_have_value("CRITICAL")
    expect(page.get_by_role("table", name=RESOURCE_TABLE)).to_contain_text(
        "type Patch status Non-compliant overall severity Critical"
    )
    assert resource_rows(page) == [
        [R1, "Patch", "Non-compliant", "Critical", "1", "1",
         "2026-03-01 09:35:00 UTC patch-run-7 (Command)"],
    ]  # fmt: skip

    page.get_by_role("link", name=R1, exact=True).click()
    expect(page).to_have_url(f"{open_server.url}/ui/resources/{R1}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{R1} Non-compliant")
    expect(page.locator(".context")).to_have_text(
        f"ManagedInstance in account {ACCOUNT_A}, region {REGION}."
    )
    assert table_rows(page.get_by_role("table", name="Compliance types on this resource")) == [
        ["Custom:DiskEncryption", "Non-compliant", "High", "0", "1",
         "2026-03-01 09:30:00 UTC disk-scan-1 (Command)"],
        ["Patch", "Non-compliant", "Critical", "1", "1",
         "2026-03-01 09:35:00 UTC patch-run-7 (Command)"],
    ]  # fmt: skip
    expect(page.locator("table.items caption")).to_have_text(
        ["Custom:DiskEncryption items: 1", "Patch items: 2"]
    )
    patch_items = table_rows(page.get_by_role("table", name="Patch items: 2"))
    assert [row[:4] for row in patch_items] == [
        ["KB5001", "Cumulative update", "Non-compliant", "Critical"],
        ["KB5002", "Servicing stack", "Compliant", "Low"],
    ]
    assert "Classification SecurityUpdates" in patch_items[0][4]
    assert "PatchState Missing" in patch_items[0][4]
    assert patch_items[0][5] == "2026-03-01 09:35:00 UTC patch-run-7 (Command)"
    assert accessibility_problems(page) == []
    screenshot(page, "node")


def test_resources_filters_and_keyset_pages(open_server: Complyd, open_page: Opener) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui/")
    choose_tenant(page, ACCOUNT_A, REGION)
    page.get_by_role("navigation", name="Dashboard views").get_by_role(
        "link", name="Resources"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Resources")
    assert len(resource_rows(page)) == 50

    page.get_by_label("Compliance type").select_option("Association")
    page.get_by_label("Status").select_option(label="Non-compliant")
    page.get_by_role("button", name="Apply filters").click()
    assert [row[:4] for row in resource_rows(page)] == [
        [R3, "Association", "Non-compliant", "High"]
    ]

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Resource id starts with").fill("i-0aaa")
    page.get_by_role("button", name="Apply filters").click()
    assert [row[:2] for row in resource_rows(page)] == [
        [R1, "Custom:DiskEncryption"],
        [R1, "Patch"],
        [R2, "Association"],
        [R2, "Patch"],
        [R3, "Association"],
    ]
    expect(page.get_by_role("link", name="Next page ›")).to_have_count(0)
    assert accessibility_problems(page) == []
    screenshot(page, "resources")

    # Keyset pages through 120 low-severity rows: 50, 50, 20.
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Overall severity").select_option(label="Low")
    page.get_by_role("button", name="Apply filters").click()
    first = resource_rows(page)
    assert [row[0] for row in first] == [bulk_id(n) for n in range(50)]
    page.get_by_role("link", name="Next page ›").click()
    expect(page.get_by_role("table", name=RESOURCE_TABLE)).to_contain_text("page 2")
    assert [row[0] for row in resource_rows(page)] == [bulk_id(n) for n in range(50, 100)]
    assert "after_resource=" in page.url and ACCOUNT_A not in page.url
    page.get_by_role("link", name="Next page ›").click()
    assert [row[0] for row in resource_rows(page)] == [bulk_id(n) for n in range(100, 120)]
    expect(page.get_by_role("link", name="Next page ›")).to_have_count(0)
    page.get_by_role("link", name="« First page").click()
    assert resource_rows(page) == first
    expect(page.get_by_label("Overall severity")).to_have_value("LOW")


def test_node_view_filters_items(open_server: Complyd, open_page: Opener) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui/")
    choose_tenant(page, ACCOUNT_A, REGION)
    page.goto(f"{open_server.url}/ui/resources?resource_id={R1}")
    # A row's compliance type opens the node with only that type's items.
    page.get_by_role("link", name="Custom:DiskEncryption").click()
    expect(page.locator("table.items caption")).to_have_text(["Custom:DiskEncryption items: 1"])
    expect(page.get_by_label("Compliance type")).to_have_value("Custom:DiskEncryption")

    page.get_by_label("Compliance type").select_option(label="Any type")
    page.get_by_label("Status").select_option(label="Compliant")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.items caption")).to_have_text(["Patch items: 1"])
    assert table_rows(page.locator("table.items"))[0][0] == "KB5002"

    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_label("Severity").select_option(label="Informational")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No items match these filters.")).to_be_visible()
    assert accessibility_problems(page) == []


def test_each_tenant_sees_only_its_own_data(open_server: Complyd, open_page: Opener) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui/")
    choose_tenant(page, ACCOUNT_A, REGION)
    # Another tenant's resource is not reachable by URL.
    response = page.goto(f"{open_server.url}/ui/resources/{B1}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_have_text(
        f"No compliance data for resource {B1} in account {ACCOUNT_A}, region {REGION}."
    )
    assert accessibility_problems(page) == []
    page.goto(f"{open_server.url}/ui/resources?resource_id={B1}")
    expect(page.get_by_text("No resources match these filters.")).to_be_visible()
    # Nor by resuming a page "after" a key just before it.
    page.goto(f"{open_server.url}/ui/resources?after_resource=i-0bbb&after_type=A")
    assert all(not row[0].startswith("i-0bbb") for row in resource_rows(page))

    page.goto(open_server.url + "/ui/")
    choose_tenant(page, ACCOUNT_B, REGION)
    expect(page.locator("section.card h2")).to_have_text(["Fleet total", "Patch"])
    page.get_by_role("link", name="All resources").click()
    assert [row[0] for row in resource_rows(page)] == [B1]
    response = page.goto(f"{open_server.url}/ui/resources/{R1}")
    assert response is not None and response.status == 404

    # A hand-made tenant choice that holds no data is refused.
    page.goto(open_server.url + "/ui/")
    page.get_by_label("Account and region").evaluate(
        "select => { select.options[0].value = '999999999999/us-east-1'; select.selectedIndex = 0 }"
    )
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_have_text("Choose one of the listed tenants.")
    page.goto(open_server.url + "/ui/")
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_B}, region {REGION}")


def test_forms_without_the_session_token_are_refused(
    open_server: Complyd, open_page: Opener
) -> None:
    page = open_page(open_server)
    page.goto(open_server.url + "/ui/")
    response = page.request.post(
        open_server.url + "/ui/tenant", form={"tenant": f"{ACCOUNT_B}/{REGION}"}
    )
    assert response.status == 403
    assert "This form expired" in response.text()
