"""Every view at a laptop's and a phone's width, the trend charts against the history seeded
through the API, the resources list's totals, sorting, pages and CSV, and the auditor's view of
every tenant beside an ordinary key that sees only its own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Complyd, accessibility_problems, item, screenshot, table_rows

WIDTHS = {"laptop": {"width": 1366, "height": 850}, "phone": {"width": 390, "height": 844}}
ACCOUNT_A, ACCOUNT_B, AUDITOR_ACCOUNT = "210000000001", "210000000002", "210000000009"
AUDITOR = ("AKIAAUDITOR000000009", "secret-of-the-auditor-0009")
KEY_A = ("AKIAORDINARY00000001", "secret-of-account-a-00001")
KEY_B = ("AKIAORDINARY00000002", "secret-of-account-b-00002")
CREDENTIALS = f"""
[[keys]]
access_key_id = "{AUDITOR[0]}"
secret_access_key = "{AUDITOR[1]}"
account_id = "{AUDITOR_ACCOUNT}"
role = "auditor"
read_only = true

[[keys]]
access_key_id = "{KEY_A[0]}"
secret_access_key = "{KEY_A[1]}"
account_id = "{ACCOUNT_A}"

[[keys]]
access_key_id = "{KEY_B[0]}"
secret_access_key = "{KEY_B[1]}"
account_id = "{ACCOUNT_B}"
"""
NODE = "i-0e000000000000001"
NOW = datetime.now(UTC)
LONG_ID = "KB" + "5034441-cumulative-update-for-windows-server" * 2


def node(n: int) -> str:
    return f"i-0d{n:015x}"


def put(
    ssm: Any, resource_id: str, ctype: str, items: list[dict[str, Any]], age_days: float
) -> None:
    ssm.put_compliance_items(
        ResourceId=resource_id,
        ResourceType="ManagedInstance",
        ComplianceType=ctype,
        ExecutionSummary={"ExecutionTime": NOW - timedelta(days=age_days), "ExecutionId": "run"},
        Items=items,
    )


def seed(server: Complyd) -> dict[str, int]:
    """Account A in two regions and account B; returns A/us-east-1's non-compliant resources
    per type as the puts leave them (the trend's last point)."""
    a = server.ssm(*KEY_A)
    for n in range(12):
        stale = 40 if n % 4 == 0 else 0.1  # every fourth node last reported 40 days ago
        status = "NON_COMPLIANT" if n % 3 == 0 else "COMPLIANT"
        put(a, node(n), "Patch", [item("KB1", "CRITICAL", status)], stale)
        if n < 6:
            put(a, node(n), "Custom:Disk", [item("root", "LOW", "NON_COMPLIANT")], stale)
    # The node's history: Association flips back and forth, then is removed; Patch flips once.
    put(a, NODE, "Association", [item("a1", "HIGH", "NON_COMPLIANT")], 0.5)
    put(a, NODE, "Association", [item("a1", "HIGH", "COMPLIANT")], 0.4)
    put(a, NODE, "Association", [item("a1", "HIGH", "NON_COMPLIANT")], 0.3)
    put(a, NODE, "Association", [], 0.2)
    details = {"Classification": "SecurityUpdates", "PatchState": "Missing"}
    put(
        a,
        NODE,
        "Patch",
        [item(LONG_ID, "HIGH", "NON_COMPLIANT", "A very long title " * 4, **details)],
        0.2,
    )
    put(
        a,
        NODE,
        "Patch",
        [item(LONG_ID, "HIGH", "COMPLIANT", "A very long title " * 4, **details)],
        0.1,
    )
    put(
        server.ssm(*KEY_A, region="eu-west-1"),
        node(99),
        "Patch",
        [item("KB1", "LOW", "COMPLIANT")],
        1,
    )
    b = server.ssm(*KEY_B)
    for n in range(3):
        put(b, node(200 + n), "Patch", [item("KB9", "HIGH", "NON_COMPLIANT")], 1)
    for n in range(120):
        put(b, node(300 + n), "Custom:Many", [item("x", "LOW", "COMPLIANT")], 1)
    # Patch: nodes 0, 3, 6, 9 non-compliant; Custom:Disk: nodes 0-5; the fleet: 0-5, 6, 9.
    return {"Patch": 4, "Custom:Disk": 6, "FleetTotal": 8}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Complyd, dict[str, int]]]:
    directory = tmp_path_factory.mktemp("screens")
    credentials = directory / "credentials.toml"
    credentials.write_text(CREDENTIALS)
    srv = Complyd(directory, ("--credentials", str(credentials))).start()
    expected = seed(srv)
    yield srv, expected
    srv.stop()


def sign_in(page: Any, server: Complyd, key: tuple[str, str], region: str = "") -> None:
    page.goto(server.url + "/ui/login")
    page.get_by_label("Access key id").fill(key[0])
    page.get_by_label("Secret access key").fill(key[1])
    page.get_by_label("Region (optional)").fill(region)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fleet compliance")


def overflow(page: Any) -> int:
    """How far the page reaches past the viewport's right edge, in CSS pixels."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page_at(browser: Any, width: str) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield page
    context.close()
    assert errors == []


def test_every_view_fits_the_screen(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, _ = server
    page = page_at
    page.goto(srv.url + "/ui/login")
    assert overflow(page) == 0
    screenshot(page, f"screens-login-{width}")
    sign_in(page, srv, AUDITOR, "us-east-1")
    views = {
        "fleet": "/ui/?days=7",
        "resources": "/ui/resources",
        "resources-sorted": "/ui/resources?sort=type&order=desc",
        "node": f"/ui/resources/{NODE}",
        "tenants": "/ui/tenants",
        "not-found": "/ui/no-such-page",
        "node-not-found": "/ui/resources/i-0ffffffffffffffff",
    }
    page.get_by_label("Account and region").select_option(label=f"{ACCOUNT_A} · us-east-1")
    page.get_by_role("button", name="Show").click()
    for name, path in views.items():
        page.goto(srv.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert overflow(page) == 0, (name, width)
        assert accessibility_problems(page) == [], name
        screenshot(page, f"screens-{name}-{width}")
    if width == "phone":
        # Below 600 px each item is a block of labelled lines, not a table row.
        page.goto(srv.url + f"/ui/resources/{NODE}")
        cell = page.locator("table.items tbody td").first
        assert cell.evaluate("c => getComputedStyle(c).display") == "block"
        box = page.locator("table.items").first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTHS[width]["width"]


def test_trend_points_match_the_seeded_history(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, expected = server
    page = page_at
    sign_in(page, srv, KEY_A, "us-east-1")
    for days in (7, 30, 90):
        page.get_by_role("link", name=f"{days} days").click()
        expect(page.get_by_role("link", name=f"{days} days")).to_have_attribute(
            "aria-current", "true"
        )
        for card_name, key in (
            ("Fleet total", "FleetTotal"),
            ("Patch", "Patch"),
            ("Custom:Disk", "Custom:Disk"),
        ):
            card = page.locator("section.card").filter(
                has=page.get_by_role("heading", name=card_name, exact=True)
            )
            points = card.locator("circle.trend-point").evaluate_all(
                "cs => cs.map(c => [c.dataset.day, Number(c.dataset.count), Number(c.getAttribute('cy'))])"
            )
            # One point per day from `days` ago to today; nothing was reported before today.
            today = NOW.date()
            assert [p[0] for p in points] == [
                (today - timedelta(days=d)).isoformat() for d in range(days, -1, -1)
            ]
            assert [p[1] for p in points] == [0] * days + [expected[key]], card_name
            # Drawn to scale: zero on the axis, the latest at the top.
            assert {p[2] for p in points[:-1]} == {60.0} and points[-1][2] == 0.0
            expect(card.locator("figure.trend figcaption")).to_contain_text(
                f"last {days} days: {expected[key]} now (+{expected[key]})"
            )
    screenshot(page, f"screens-trends-{width}")


def test_node_timeline_shows_each_types_changes(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, _ = server
    page = page_at
    sign_in(page, srv, KEY_A, "us-east-1")
    page.goto(srv.url + f"/ui/resources/{NODE}")
    rows = page.locator(".timeline-row")
    expect(rows.locator(".timeline-type")).to_have_text(["Association", "Patch"])
    bands = [
        rows.nth(n).locator("rect[data-status]").evaluate_all("rs => rs.map(r => r.dataset.status)")
        for n in range(2)
    ]
    assert bands == [
        ["NON_COMPLIANT", "COMPLIANT", "NON_COMPLIANT", "REMOVED"],
        ["NON_COMPLIANT", "COMPLIANT"],
    ]
    page.get_by_text("Every change (6)").click()
    changes = table_rows(page.get_by_role("table", name="Recorded changes, newest first"))
    assert [row[1:3] for row in changes] == [
        ["Patch", "Compliant"],
        ["Patch", "Non-compliant"],
        ["Association", "Removed"],
        ["Association", "Non-compliant"],
        ["Association", "Compliant"],
        ["Association", "Non-compliant"],
    ]


def test_resources_totals_sorting_pages_staleness_and_csv(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, _ = server
    page = page_at
    sign_in(page, srv, KEY_A, "us-east-1")
    page.goto(srv.url + "/ui/resources")
    # 12 Patch + 6 Custom:Disk rows and the node's Patch row: 19 rows on 13 resources.
    expect(page.locator("#totals")).to_contain_text(
        "19 resource-type rows on 13 resources; 10 non-compliant."
    )
    table = page.get_by_role("table", name="Compliance by resource and type, page 1")
    expect(page.get_by_label("Compliance type").locator("option")).to_have_text(
        ["Any type", "Custom:Disk", "Patch"]
    )
    first_rows = table_rows(table)
    assert [r[0] for r in first_rows] == sorted(r[0] for r in first_rows)
    assert "ago" in page.locator("#resource-table .age").first.inner_text()

    page.get_by_role("link", name="Compliance type").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Compliance type")
    page.get_by_role("link", name="Compliance type").click()  # again: descending
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Compliance type")
    rows = table_rows(page.locator("#resource-table"))
    keys = [(r[1], r[0]) for r in rows]
    assert keys == sorted(keys, reverse=True) and rows[0][1] == "Patch"

    # Filter by type and staleness; pages of 50 are too large here, so check the links' keyset.
    page.get_by_label("Compliance type").select_option("Patch")
    page.get_by_label("Not reported for").select_option(label="30 days or more")
    page.get_by_role("button", name="Apply filters").click()
    stale = table_rows(page.locator("#resource-table"))
    assert sorted(r[0] for r in stale) == [node(0), node(4), node(8)]
    expect(page.locator("#totals")).to_contain_text(
        "3 resource-type rows on 3 resources match these filters; 1 non-compliant."
    )
    assert "sort=type" in page.url and "order=desc" in page.url

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    content = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115
    parsed = list(csv.DictReader(io.StringIO(content)))
    api = srv.ssm(*KEY_A).list_resource_compliance_summaries(
        Filters=[
            {"Key": "ComplianceType", "Values": ["Patch"]},
            {
                "Key": "ExecutionTime",
                "Values": [str(int((NOW - timedelta(days=30)).timestamp()))],
                "Type": "LESS_THAN",
            },
        ]
    )["ResourceComplianceSummaryItems"]
    assert [(r["ResourceId"], r["ComplianceType"], r["Status"]) for r in parsed] == [
        (r["ResourceId"], r["ComplianceType"], r["Status"]) for r in api
    ]
    assert (
        len(parsed) == 3
        and download.value.suggested_filename == f"complyd-{ACCOUNT_A}-us-east-1-resources.csv"
    )


def test_previous_and_next_pages(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, _ = server
    page = page_at
    sign_in(page, srv, KEY_B, "us-east-1")
    ssm = srv.ssm(*KEY_B)
    if not ssm.list_resource_compliance_summaries(
        Filters=[{"Key": "ComplianceType", "Values": ["Custom:Many"]}]
    )["ResourceComplianceSummaryItems"]:
        for n in range(120):
            put(ssm, node(300 + n), "Custom:Many", [item("x", "LOW", "COMPLIANT")], 1)
    page.goto(srv.url + "/ui/resources?compliance_type=Custom:Many&sort=resource&order=desc")
    first = table_rows(page.locator("#resource-table"))
    assert [r[0] for r in first] == [node(300 + n) for n in range(119, 69, -1)]
    page.get_by_role("link", name="Next page ›").click()
    second = table_rows(page.locator("#resource-table"))
    assert [r[0] for r in second] == [node(300 + n) for n in range(69, 19, -1)]
    page.get_by_role("link", name="Next page ›").click()
    assert len(table_rows(page.locator("#resource-table"))) == 20
    expect(page.get_by_role("link", name="Next page ›")).to_have_count(0)
    page.get_by_role("link", name="‹ Previous page").click()
    assert table_rows(page.locator("#resource-table")) == second
    page.get_by_role("link", name="‹ Previous page").click()
    assert table_rows(page.locator("#resource-table")) == first
    expect(page.get_by_role("link", name="‹ Previous page")).to_have_count(0)


def test_the_auditor_sees_every_tenant_and_an_ordinary_key_its_own(
    server: tuple[Complyd, dict[str, int]], page_at: Any, width: str
) -> None:
    srv, _ = server
    page = page_at
    sign_in(page, srv, AUDITOR)
    # Largest tenant first, and it is the one shown.
    picker = page.get_by_label("Account and region")
    expect(picker.locator("option")).to_have_text(
        [f"{ACCOUNT_B} · us-east-1", f"{ACCOUNT_A} · us-east-1", f"{ACCOUNT_A} · eu-west-1"]
    )
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_B}, region us-east-1")
    page.get_by_role("link", name="All tenants").click()
    rows = table_rows(page.get_by_role("table", name="Resources per account and region"))
    assert [r[:4] for r in rows] == [
        [ACCOUNT_B, "us-east-1", "123", "3"],
        [ACCOUNT_A, "us-east-1", "13", "8"],
        [ACCOUNT_A, "eu-west-1", "1", "0"],
    ]
    assert "Custom:Disk 6 of 6" in rows[1][4] and "Patch 4 of 13" in rows[1][4]
    screenshot(page, f"screens-auditor-tenants-{width}")
    page.get_by_role("button", name=f"Open {ACCOUNT_A} eu-west-1").click()
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_A}, region eu-west-1")
    expect(page.locator("section.card h2").first).to_have_text("Fleet total")
    # The API stays per tenant: the auditor's key reads its own (empty) account only.
    own = srv.ssm(*AUDITOR).list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
    assert own == []

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, srv, KEY_A)
    expect(page.get_by_label("Region").locator("option")).to_have_text(["us-east-1", "eu-west-1"])
    expect(page.get_by_role("link", name="All tenants")).to_have_count(0)
    response = page.goto(srv.url + "/ui/tenants")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text(f"sees account {ACCOUNT_A} only")
    page.goto(srv.url + "/ui/")
    page.get_by_label("Region").evaluate(
        f"s => {{ s.options[0].value = '{ACCOUNT_B}/us-east-1'; s.selectedIndex = 0 }}"
    )
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_have_text("Choose one of the listed tenants.")
    page.goto(srv.url + f"/ui/resources/{node(200)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Resource not found")
