"""State-change events: POSTed to real loopback webhooks, signed, retried, kept across restarts."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.harness import make_client, new_instance_id, new_tenant
from tests.api.reference import at, entry, put

from .receiver import Receiver

SECRET = "s3cret-for-tests"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


def webhook_options(*urls: str) -> tuple[str, ...]:
    options: list[str] = []
    for url in urls:
        options += ["--webhook", url]
    return (*options, "--webhook-secret", SECRET)


def verify(got: Any) -> dict[str, Any]:
    expected = "sha256=" + hmac.new(SECRET.encode(), got.raw, hashlib.sha256).hexdigest()
    assert got.headers["x-complyd-signature"] == expected
    body: dict[str, Any] = got.body
    assert got.headers["x-complyd-event-id"] == body["id"]
    return body


def test_status_flips_are_posted_signed_and_shaped_like_aws(
    server_factory: Any, receiver: Receiver
) -> None:
    second = Receiver()
    second.start()
    try:
        server = server_factory(*webhook_options(receiver.url, second.url))
        tenant = new_tenant("eu-west-2")
        ssm = make_client(server, tenant)
        node = new_instance_id()
        put(ssm, node, "Patch", [entry("KB1", "LOW")], when=at(0))  # new row: compliant
        put(ssm, node, "Patch", [entry("KB1", "LOW")], when=at(10))  # no flip
        put(ssm, node, "Patch", [entry("KB1", "CRITICAL", "NON_COMPLIANT")], when=at(20))
        put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(30))  # no flip
        put(ssm, node, "Patch", [], when=at(40))  # removal: no event

        bodies = [verify(r) for r in receiver.wait_for(2)]
        time.sleep(1.5)  # nothing else arrives
        assert len(receiver.received) == 2
        assert [verify(r)["id"] for r in second.wait_for(2)] == [b["id"] for b in bodies]
    finally:
        second.stop()
    first, flip = bodies
    assert flip == {
        "version": "0",
        "id": flip["id"],
        "detail-type": "Configuration Compliance State Change",
        "source": "aws.ssm",
        "account": tenant.account,
        "time": flip["time"],
        "region": "eu-west-2",
        "resources": [f"arn:aws:ssm:eu-west-2:{tenant.account}:managed-instance/{node}"],
        "detail": {
            "resource-type": "managed-instance",
            "resource-id": node,
            "compliance-status": "non_compliant",
            "compliance-type": "Patch",
            "severity": "critical",
        },
    }
    assert first["detail"]["compliance-status"] == "compliant"
    assert first["detail"]["severity"] == "low"
    assert first["id"] != flip["id"]


def test_a_failing_webhook_gets_the_same_event_again(
    server_factory: Any, receiver: Receiver
) -> None:
    receiver.fail_next = 2
    server = server_factory(*webhook_options(receiver.url))
    ssm = make_client(server, new_tenant())
    put(ssm, new_instance_id(), "Custom:Agent", [entry("up", "MEDIUM", "NON_COMPLIANT")])
    started = time.monotonic()
    (got,) = receiver.wait_for(1)
    body = verify(got)
    assert [verify(f)["id"] for f in receiver.failed] == [body["id"]] * 2
    # Backoff: 1 s after the first failure, 2 s after the second.
    assert time.monotonic() - started >= 2.5
    assert body["detail"]["compliance-status"] == "non_compliant"


def test_undelivered_events_survive_a_restart(server_factory: Any, receiver: Receiver) -> None:
    receiver.fail_all = True
    server = server_factory(*webhook_options(receiver.url))
    ssm = make_client(server, new_tenant())
    node = new_instance_id()
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
    deadline = time.monotonic() + 20
    while not receiver.failed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.failed
    assert pending_metric(server.url) == 1
    server.stop()
    with receiver.lock:
        receiver.fail_all = False
    server.start()
    (got,) = receiver.wait_for(1)
    body = verify(got)
    assert body["id"] == verify(receiver.failed[0])["id"]
    assert body["detail"]["resource-id"] == node
    # Delivered events leave the outbox.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and outbox_rows(server.db) != 0:
        time.sleep(0.1)
    assert outbox_rows(server.db) == 0


def pending_metric(url: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    (family,) = [
        f for f in text_string_to_metric_families(text) if f.name == "complyd_events_pending"
    ]
    return float(family.samples[0].value)


def outbox_rows(db: Any) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM compliance_events").fetchone()
    return int(n)


def test_without_webhooks_no_events_are_kept(server_factory: Any) -> None:
    server = server_factory()
    ssm = make_client(server, new_tenant())
    node = new_instance_id()
    put(ssm, node, "Patch", [entry("KB1")])
    put(ssm, node, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")], when=at(5))
    assert outbox_rows(server.db) == 0


def test_webhook_flags_are_checked(server_factory: Any) -> None:
    from .runner import complyd

    done = complyd("serve", "--webhook", "http://127.0.0.1:9/x", ok=False, timeout=30)
    assert done.returncode == 2 and "--webhook-secret" in done.stderr
    done = complyd("serve", "--webhook", "ftp://x", "--webhook-secret", "k", ok=False, timeout=30)
    assert done.returncode == 2 and "not an http(s) URL" in done.stderr
