"""The dashboard with keys configured (`complyd serve --credentials FILE`): a person signs in with
an access key id and secret and sees that key's account only."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    B1,
    EU1,
    OTHER_REGION,
    R1,
    REGION,
    Complyd,
    Opener,
    accessibility_problems,
    item,
    put,
    screenshot,
    table_rows,
)

ACCOUNT_EMPTY = "777788889999"
KEY_A = ("AKIAAAAAAAAAAAAAAAA1", "secret-for-account-a-0001")
KEY_B = ("AKIABBBBBBBBBBBBBBB2", "secret-for-account-b-0002")
KEY_B_READER = ("AKIABBBBREADONLY0003", "secret-reader-of-account-b")
KEY_EMPTY = ("AKIACCCCCCCCCCCCCCC4", "secret-for-empty-account-4")
CREDENTIALS = f"""
[[keys]]
access_key_id = "{KEY_A[0]}"
secret_access_key = "{KEY_A[1]}"
account_id = "{ACCOUNT_A}"

[[keys]]
access_key_id = "{KEY_B[0]}"
secret_access_key = "{KEY_B[1]}"
account_id = "{ACCOUNT_B}"

[[keys]]
access_key_id = "{KEY_B_READER[0]}"
secret_access_key = "{KEY_B_READER[1]}"
account_id = "{ACCOUNT_B}"
read_only = true

[[keys]]
access_key_id = "{KEY_EMPTY[0]}"
secret_access_key = "{KEY_EMPTY[1]}"
account_id = "{ACCOUNT_EMPTY}"
"""


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Complyd]:
    directory = tmp_path_factory.mktemp("keyed")
    credentials = directory / "credentials.toml"
    credentials.write_text(CREDENTIALS)
    server = Complyd(directory, ("--credentials", str(credentials))).start()
    # Real SigV4 signatures, checked by the server against the configured secrets.
    a_east, a_eu = server.ssm(*KEY_A), server.ssm(*KEY_A, region=OTHER_REGION)
    put(a_east, R1, "Patch", [item("KB1", "HIGH", "NON_COMPLIANT")])
    put(a_eu, EU1, "Custom:Eu", [item("eu", "LOW", "COMPLIANT")])
    put(server.ssm(*KEY_B), B1, "Patch", [item("KB9", "CRITICAL", "NON_COMPLIANT")])
    yield server
    server.stop()


def sign_in(page: Any, key: tuple[str, str], region: str = "") -> None:
    page.get_by_label("Access key id").fill(key[0])
    page.get_by_label("Secret access key").fill(key[1])
    page.get_by_label("Region (optional)").fill(region)
    page.get_by_role("button", name="Sign in").click()


def session_cookie(page: Any) -> dict[str, Any]:
    """The session cookie's readable part (it is signed, not encrypted)."""
    [cookie] = [c for c in page.context.cookies() if c["name"] == "complyd_ui"]
    payload = cookie["value"].split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_every_view_asks_for_a_key_first(keyed_server: Complyd, open_page: Opener) -> None:
    page = open_page(keyed_server)
    for path in ("/ui/", "/ui/resources?status=COMPLIANT", f"/ui/resources/{R1}"):
        page.goto(keyed_server.url + path)
        expect(page).to_have_url(keyed_server.url + "/ui/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("navigation")).to_have_count(0)
    assert accessibility_problems(page) == []
    screenshot(page, "login")


def test_a_wrong_secret_or_unknown_key_is_refused(keyed_server: Complyd, open_page: Opener) -> None:
    page = open_page(keyed_server)
    page.goto(keyed_server.url + "/ui/login")
    for key in ((KEY_A[0], "not-the-secret-at-all"), ("AKIAUNKNOWNUNKNOWN00", KEY_A[1])):
        sign_in(page, key)
        expect(page.get_by_role("alert")).to_have_text(
            "That access key id and secret access key do not match a key on this server."
        )
        expect(page.get_by_label("Access key id")).to_have_value(key[0])
        expect(page.get_by_label("Secret access key")).to_have_value("")
    page.goto(keyed_server.url + "/ui/")
    expect(page).to_have_url(keyed_server.url + "/ui/login")


def test_a_key_sees_its_own_account_only(keyed_server: Complyd, open_page: Opener) -> None:
    page = open_page(keyed_server)
    page.goto(keyed_server.url + "/ui/")
    sign_in(page, KEY_B_READER)  # read-only keys may read the dashboard

    expect(page).to_have_url(keyed_server.url + "/ui/")
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_B}, region {REGION}")
    expect(page.locator(".who")).to_have_text(f"Account {ACCOUNT_B} (key {KEY_B_READER[0]})")
    expect(page.get_by_label("Region").locator("option")).to_have_text([REGION])
    expect(page.locator("section.card h2")).to_have_text(["Fleet total", "Patch"])
    page.get_by_role("link", name="All resources").click()
    assert [row[0] for row in table_rows(page.locator("#resource-table"))] == [B1]
    # The session names the tenant and the key, never the secret.
    session = session_cookie(page)
    assert session["account_id"] == ACCOUNT_B and session["access_key_id"] == KEY_B_READER[0]
    assert KEY_B_READER[1] not in json.dumps(session)

    response = page.goto(f"{keyed_server.url}/ui/resources/{R1}")
    assert response is not None and response.status == 404
    # A hand-edited form cannot switch to another account.
    page.goto(keyed_server.url + "/ui/")
    page.get_by_label("Region").evaluate(
        f"select => {{ select.options[0].value = '{ACCOUNT_A}/{REGION}' }}"
    )
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_have_text("Choose one of the listed tenants.")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(keyed_server.url + "/ui/login")
    page.goto(keyed_server.url + "/ui/resources")
    expect(page).to_have_url(keyed_server.url + "/ui/login")


def test_regions_of_the_account(keyed_server: Complyd, open_page: Opener) -> None:
    page = open_page(keyed_server)
    page.goto(keyed_server.url + "/ui/login")
    sign_in(page, KEY_A)
    # No region given: the first one holding the account's data.
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_A}, region {OTHER_REGION}")
    expect(page.locator("section.card h2")).to_have_text(["Fleet total", "Custom:Eu"])
    region = page.get_by_label("Region")
    expect(region.locator("option")).to_have_text([OTHER_REGION, REGION])
    region.select_option(label=REGION)
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".context")).to_contain_text(f"Account {ACCOUNT_A}, region {REGION}")
    expect(page.locator("section.card h2")).to_have_text(["Fleet total", "Patch"])
    assert accessibility_problems(page) == []

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, KEY_A, region=REGION)
    expect(page.locator(".context")).to_contain_text(f"region {REGION}")


def test_an_account_without_data_says_so(keyed_server: Complyd, open_page: Opener) -> None:
    page = open_page(keyed_server)
    page.goto(keyed_server.url + "/ui/login")
    sign_in(page, KEY_EMPTY)
    expect(page.get_by_text("No compliance data in this account and region yet.")).to_be_visible()
    expect(page.get_by_label("Region").locator("option")).to_have_text([REGION])
    page.get_by_role("navigation", name="Dashboard views").get_by_role(
        "link", name="Resources"
    ).click()
    expect(page.get_by_text("No resources match these filters.")).to_be_visible()
    assert accessibility_problems(page) == []


def test_removing_a_key_ends_its_sessions(
    tmp_path_factory: pytest.TempPathFactory, open_page: Opener
) -> None:
    directory = tmp_path_factory.mktemp("rotated")
    credentials = directory / "credentials.toml"
    credentials.write_text(CREDENTIALS)
    server = Complyd(directory, ("--credentials", str(credentials))).start()
    try:
        put(server.ssm(*KEY_A), R1, "Patch", [item("KB1", "HIGH", "NON_COMPLIANT")])
        page = open_page(server)
        page.goto(server.url + "/ui/login")
        sign_in(page, KEY_A)
        expect(page).to_have_url(server.url + "/ui/")
        # The operator removes key A and restarts; the same cookie (cookies ignore ports)
        # must no longer open the dashboard.
        server.stop()
        credentials.write_text(CREDENTIALS.replace(KEY_A[0], "AKIAREPLACEMENT00009"))
        server.start()
        page.goto(server.url + "/ui/")
        expect(page).to_have_url(server.url + "/ui/login")
    finally:
        server.stop()
