"""State-change events: the outbox's rows POSTed to webhooks, signed, retried until delivered.

Owns the event's shape (AWS's EventBridge "Configuration Compliance State Change"), its
signature and the delivery loop. Puts write outbox rows in their own transaction (see
storage/changelog.py); this loop reads due rows, POSTs each to every webhook and deletes it once
all answered 2xx, else schedules a retry with exponential backoff. Delivery is at least once: a
restart, a crash or one failing webhook can send an event again, always with the same `id`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from complyd.clock import iso_seconds, now_ms
from complyd.model import PendingEvent, Status
from complyd.storage.base import History

log = logging.getLogger("complyd.events")
DETAIL_TYPE = "Configuration Compliance State Change"
SIGNATURE_HEADER = "X-Complyd-Signature"
EVENT_ID_HEADER = "X-Complyd-Event-Id"
# Event ids derive from the outbox row, so every attempt at one event carries the same id.
_EVENT_NAMESPACE = uuid.UUID("6f1d3c1e-8a53-4b0e-9d0a-2f1c6b7c9e10")
POLL_S = 0.5
BATCH = 100
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 300.0
TIMEOUT_S = 10.0


def event_body(event: PendingEvent) -> dict[str, Any]:
    t = event.tenant
    when = iso_seconds(event.created_ms)
    event_id = uuid.uuid5(
        _EVENT_NAMESPACE, f"{t.account_id}/{t.region}/{event.id}/{event.created_ms}"
    )
    return {
        "version": "0",
        "id": str(event_id),
        "detail-type": DETAIL_TYPE,
        "source": "aws.ssm",
        "account": t.account_id,
        "time": when,
        "region": t.region,
        "resources": [
            f"arn:aws:ssm:{t.region}:{t.account_id}:managed-instance/{event.resource_id}"
        ],
        "detail": {
            "resource-type": "managed-instance",
            "resource-id": event.resource_id,
            "compliance-status": (
                "compliant" if event.status is Status.COMPLIANT else "non_compliant"
            ),
            "compliance-type": event.compliance_type,
            "severity": event.severity.value.lower(),
        },
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, as receivers recompute it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay_s(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: 1, 2, 4, ... capped at five minutes."""
    return min(MAX_RETRY_S, FIRST_RETRY_S * float(2 ** max(0, attempts - 1)))


def post(url: str, body: bytes, headers: dict[str, str]) -> bool:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("webhook %s failed: %s", url, exc)
        return False


class Deliverer:
    def __init__(self, history: History, webhooks: Sequence[str], secret: str) -> None:
        self.history = history
        self.webhooks = tuple(webhooks)
        self.secret = secret

    def deliver_due(self) -> int:
        """Try every due event once; returns how many were delivered."""
        now = now_ms()
        delivered = 0
        for event in self.history.due_events(now, BATCH):
            body = orjson.dumps(event_body(event))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature(self.secret, body),
                EVENT_ID_HEADER: str(orjson.loads(body)["id"]),
            }
            if all([post(url, body, headers) for url in self.webhooks]):
                self.history.delivered(event.id)
                delivered += 1
            else:
                attempts = event.attempts + 1
                later = now + int(retry_delay_s(attempts) * 1000)
                self.history.retry_later(event.id, attempts, later)
        return delivered

    async def run_forever(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.deliver_due)
            except Exception:
                log.exception("event delivery failed; retrying")
            await asyncio.sleep(POLL_S)
