"""A dashboard session started on one replica is accepted by another: its signing key is
derived from the token key in the shared database."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from tests.api.harness import dashboard_request, make_client, new_instance_id, new_tenant
from tests.api.reference import entry, put

from .conftest import Replicas


def test_a_session_from_one_replica_picks_a_tenant_on_another(replicas: Replicas) -> None:
    first, second = replicas(2)
    tenants = {"Custom:ProbeOne": new_tenant(), "Custom:ProbeTwo": new_tenant()}
    for ctype, tenant in tenants.items():
        put(make_client(first, tenant), new_instance_id(), ctype, [entry("a")])

    status, cookie, page = dashboard_request(first, "GET", "/ui/")
    assert status == 200 and cookie.startswith("complyd_ui=")
    csrf = html.unescape(re.search(r'name="csrf" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    [shown] = [ctype for ctype in tenants if ctype in page]
    [other] = [ctype for ctype in tenants if ctype != shown]

    # The form token lives in the cookie signed by the first replica; the second must accept it.
    chosen = tenants[other]
    form = urlencode({"csrf": csrf, "tenant": f"{chosen.account}/{chosen.region}"})
    status, cookie, _ = dashboard_request(second, "POST", "/ui/tenant", cookie, form)
    assert status in (302, 303)
    # And the first accepts the cookie the second signed.
    status, _, page = dashboard_request(first, "GET", "/ui/", cookie)
    assert status == 200 and other in page and shown not in page
