"""Fixtures for the dashboard's browser tests: real `complyd serve` processes, data put through
boto3, and Debian's headless Chromium driven by Playwright.

Chromium comes from the system (`apt-get install chromium`), never from `playwright install`.
Without it the tests skip, except in CI (CI=true), where they fail. Every page a test opens is
watched: a request to anything but the server under test is blocked and fails the test, and so
does a console error (a Content-Security-Policy violation shows up as one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.api.harness import Server
from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A laptop screen.
VIEWPORT = {"width": 1366, "height": 850}
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

# The open-mode data set: one account in two regions, and a second account.
ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"
REGION, OTHER_REGION = "us-east-1", "eu-west-1"
R1, R2, R3 = "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3"
B1 = "i-0bbbbbbbbbbbbbbb1"
EU1 = "i-0eeeeeeeeeeeeeee1"
BULK = 120


def bulk_id(n: int) -> str:
    return f"i-0c{n:015d}"


class Complyd(Server):
    """One `complyd serve` process on a free loopback port (the API suite's launcher), with its
    database and logs in `directory`."""

    def __init__(self, directory: Path, options: tuple[str, ...] = ()) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(db=directory / "complyd.db", options=options, log_dir=directory)

    def start(self) -> Complyd:
        super().start()
        return self

    def ssm(self, access_key_id: str, secret: str = "x", region: str = REGION) -> Any:
        return boto3.client(
            "ssm",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )


def item(
    item_id: str, severity: str, status: str, title: str = "", **details: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": item_id, "Severity": severity, "Status": status}
    entry["Title"] = title or f"Check {item_id}"
    if details:
        entry["Details"] = details
    return entry


def put(
    ssm: Any,
    resource_id: str,
    compliance_type: str,
    items: list[dict[str, Any]],
    execution_id: str = "exec-1",
    minutes: int = 0,
) -> None:
    ssm.put_compliance_items(
        ResourceId=resource_id,
        ResourceType="ManagedInstance",
        ComplianceType=compliance_type,
        ExecutionSummary={
            "ExecutionTime": T0 + timedelta(minutes=minutes),
            "ExecutionId": execution_id,
            "ExecutionType": "Command",
        },
        Items=items,
    )


def load_tenant_a(ssm: Any) -> None:
    """Account A, us-east-1: three hand-made resources and BULK compliant ones.

    Resources per type: Association 1 compliant (UNSPECIFIED) + 1 non-compliant (HIGH);
    Custom:Bulk BULK compliant (LOW); Custom:DiskEncryption 1 non-compliant (HIGH);
    Patch 1 compliant (MEDIUM) + 1 non-compliant (CRITICAL). Fleet total: 2 non-compliant
    (CRITICAL, HIGH), BULK + 1 compliant (BULK LOW, 1 MEDIUM).
    """
    put(
        ssm,
        R1,
        "Patch",
        [
            item(
                "KB5001",
                "CRITICAL",
                "NON_COMPLIANT",
                "Cumulative update",
                Classification="SecurityUpdates",
                PatchState="Missing",
            ),
            item(
                "KB5002",
                "LOW",
                "COMPLIANT",
                "Servicing stack",
                Classification="Updates",
                PatchState="Installed",
            ),
        ],  # fmt: skip
        execution_id="patch-run-7",
        minutes=5,
    )
    put(
        ssm,
        R1,
        "Custom:DiskEncryption",
        [item("root-volume", "HIGH", "NON_COMPLIANT", "Root volume encrypted")],
        execution_id="disk-scan-1",
    )
    put(ssm, R2, "Patch", [item("KB5002", "MEDIUM", "COMPLIANT")])
    put(ssm, R2, "Association", [item("assoc-1", "UNSPECIFIED", "COMPLIANT")])
    put(ssm, R3, "Association", [item("assoc-2", "HIGH", "NON_COMPLIANT")])
    for n in range(BULK):
        put(ssm, bulk_id(n), "Custom:Bulk", [item("bulk", "LOW", "COMPLIANT")], minutes=n)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Complyd]:
    """Open mode (no keys): account A in two regions and account B hold data."""
    server = Complyd(tmp_path_factory.mktemp("open")).start()
    load_tenant_a(server.ssm(ACCOUNT_A))
    put(server.ssm(ACCOUNT_A, region=OTHER_REGION), EU1, "Patch", [item("KB1", "LOW", "COMPLIANT")])
    put(server.ssm(ACCOUNT_B), B1, "Patch", [item("KB9", "CRITICAL", "NON_COMPLIANT")])
    yield server
    server.stop()


Opener = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Opener]:
    """open_page(server): a page in a fresh browser context (no cookies) watching its traffic."""
    contexts: list[Any] = []
    foreign: list[str] = []
    console_errors: list[str] = []
    failed_assets: list[str] = []

    def make(server: Complyd) -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)

        def only_the_server(route: Any) -> None:
            if route.request.url.startswith(server.url + "/"):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_server)
        page = context.new_page()
        page.on("console", lambda m: console_errors.append(m.text) if _counts(m) else None)
        page.on(
            "response",
            lambda r: (
                failed_assets.append(r.url)
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
    assert foreign == [], f"the dashboard fetched from elsewhere: {foreign}"
    assert console_errors == [], f"console errors: {console_errors}"
    assert failed_assets == [], f"assets that failed to load: {failed_assets}"


def _counts(message: Any) -> bool:
    """A console error worth failing on; pages answering 400/404 on purpose log one too."""
    return bool(message.type == "error") and not message.text.startswith("Failed to load resource")


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Problems a person using a screen reader, a keyboard or a laptop screen would meet.
ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('no lang on html');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      problems.push('unlabelled control ' + (el.name || el.id));
  }
  for (const table of document.querySelectorAll('table')) {
    if (!table.querySelector('caption') || !table.caption.textContent.trim())
      problems.push('table without caption');
    for (const th of table.querySelectorAll('th'))
      if (!['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope')))
        problems.push('th without scope: ' + th.textContent.trim());
  }
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.getAttribute('role') !== 'img') problems.push('svg without role=img');
    if (!svg.getAttribute('aria-label') && !svg.getAttribute('aria-labelledby'))
      problems.push('svg without a text alternative');
  }
  if (document.documentElement.scrollWidth > window.innerWidth)
    problems.push('page scrolls sideways at ' + window.innerWidth + 'px');
  return problems;
}"""


def accessibility_problems(page: Any) -> list[str]:
    problems: list[str] = page.evaluate(ACCESSIBILITY_PROBLEMS)
    return problems


def table_rows(table: Any) -> list[list[str]]:
    """The body rows of a table as the cell texts a person reads, without the "N days ago"
    beside each last report (it depends on today's date; tests check it on its own)."""
    rows: list[list[str]] = table.evaluate(
        """t => Array.from(t.tBodies[0].rows, r =>
             Array.from(r.cells, c => {
               let text = c.innerText;
               for (const a of c.querySelectorAll('.age')) text = text.replace(a.innerText, '');
               return text.replace(/\\s+/g, ' ').trim();
             }))"""
    )
    return rows
