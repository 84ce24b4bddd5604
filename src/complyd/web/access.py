"""The access log: one record per HTTP request, in the format `complyd.logs` sets.

Owns the record's fields and the `Outcome` the API endpoint fills in (operation, AWS error
code, request id, access key id), so the log need not re-read headers or bodies to learn what
the endpoint knew, and the middleware that logs the other routes. Must not log secrets: an
outcome holds the access key id only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("complyd.access")
OK = "OK"


@dataclass(slots=True)
class Outcome:
    """What the API handler learned about a request."""

    operation: str
    code: str = OK
    request_id: str | None = None
    access_key_id: str | None = None


class Observed:
    """ASGI middleware for the routes beside the API (dashboard, /metrics, /healthz): an
    access-log line per request, when enabled."""

    def __init__(self, app: ASGIApp, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.access_log:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            log_request(scope, status, None, time.perf_counter() - start)


def log_request(scope: Scope, status: int, outcome: Outcome | None, elapsed: float) -> None:
    """One access-log record (logger complyd.access, level info); `outcome` for API calls."""
    if not ACCESS_LOG.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    fields: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "client": client[0] if client else None,
    }
    if outcome is not None:
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
        f" {outcome.operation} {outcome.code}" if outcome is not None else "",
        fields["duration_ms"],
        extra={"fields": fields, "inline": inline},
    )
