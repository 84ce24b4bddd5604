"""Every HTTP request, observed once: its latency and outcome go to the metrics and the access log.

Owns the ASGI middleware that times each request and the `Outcome` an API handler fills in
(operation, AWS error code, request id, access key id), so neither the metrics nor the log has
to re-read headers or bodies to learn what the handler knew. Must not log secrets: an outcome
holds the access key id only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("complyd.access")
OUTCOME_KEY = "complyd.outcome"
OK = "OK"


@dataclass(slots=True)
class Outcome:
    """What the API handler learned about a request; `operation` None: not an API call."""

    operation: str | None = None
    code: str = OK
    request_id: str | None = None
    access_key_id: str | None = None


def outcome_of(scope: Scope) -> Outcome:
    """The request's Outcome, to fill in (a fresh one outside the middleware, e.g. in tests)."""
    found = scope.get(OUTCOME_KEY)
    return found if isinstance(found, Outcome) else Outcome()


Observer = Callable[[str, str, float], None]


class Observed:
    """ASGI middleware: times each HTTP request; API calls are reported to `observe`
    (operation, code, seconds), and every request gets an access-log line when enabled."""

    def __init__(self, app: ASGIApp, observe: Observer, access_log: bool) -> None:
        self.app = app
        self.observe = observe
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        outcome = scope[OUTCOME_KEY] = Outcome()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            elapsed = time.perf_counter() - start
            if outcome.operation is not None:
                self.observe(outcome.operation, outcome.code, elapsed)
            if self.access_log and ACCESS_LOG.isEnabledFor(logging.INFO):
                _log(scope, status, outcome, elapsed)


def _log(scope: Scope, status: int, outcome: Outcome, elapsed: float) -> None:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "client": client[0] if client else None,
    }
    if outcome.operation is not None:
        fields.update(
            operation=outcome.operation,
            code=outcome.code,
            request_id=outcome.request_id,
            access_key_id=outcome.access_key_id,
        )
    # The text format shows these in the message and appends only the rest as key=value.
    inline = ("method", "path", "status", "operation", "code", "duration_ms")
    ACCESS_LOG.info(
        "%s %s %s%s %.3f ms",
        scope["method"],
        scope["path"],
        status,
        f" {outcome.operation} {outcome.code}" if outcome.operation is not None else "",
        fields["duration_ms"],
        extra={"fields": fields, "inline": inline},
    )
