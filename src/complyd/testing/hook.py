"""The botocore hook: hands the four compliance calls of every client to an active in-process mock.

Owns the `before-send` handler and its registration. `install()` adds the handler to botocore's
built-in handlers, so every session created afterwards (and so every client) carries it, and to
boto3's default session when one already exists; it runs once, when `complyd.testing` is first
imported. While no mock is active the handler answers nothing and botocore sends as usual.
Imports only botocore, so the pytest plugin can install it cheaply at start-up.
"""

from __future__ import annotations

import sys
import threading
from io import BytesIO
from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

# The operations complyd serves (complyd.wire.model.OPERATIONS), spelled out here so the hook
# does not load the web application before a mock starts.
OPERATIONS = (
    "PutComplianceItems",
    "ListComplianceItems",
    "ListComplianceSummaries",
    "ListResourceComplianceSummaries",
)
# botocore emits `before-send.<service id>.<operation>`; handlers on the longer name run before
# those on plain `before-send` (where moto's is), whatever the order of registration.
EVENTS = tuple(f"before-send.ssm.{operation}" for operation in OPERATIONS)
# botocore calls every before-send handler, even after one has answered. Once answered, the
# request is pointed at this reserved name so that no other handler (moto's answers every SSM
# URL, with NotImplementedError for these operations) takes it for its own.
ANSWERED_URL = "http://complyd-in-process.invalid/"


class Answerer(Protocol):
    def takes(self, url: str) -> bool:
        """Whether this mock takes requests sent to `url`."""

    def answer(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Any:
        """The Reply (status, headers, body) for one signed request."""


_lock = threading.Lock()
_active: list[Answerer] = []
_installed = False


def push(mock: Answerer) -> None:
    with _lock:
        _active.append(mock)


def remove(mock: Answerer) -> None:
    with _lock:
        if mock in _active:
            _active.remove(mock)


def answerer_for(url: str) -> Answerer | None:
    """The most recently started active mock that takes `url`."""
    with _lock:
        for mock in reversed(_active):
            if mock.takes(url):
                return mock
    return None


class _Body(BytesIO):
    """The raw body botocore reads an AWSResponse from."""

    def stream(self, **_kwargs: Any) -> Any:
        yield self.read()


def request_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    data = body.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def request_headers(request: Any, body: bytes) -> list[tuple[str, str]]:
    """The headers as they go on the wire: botocore signs `host` but urllib3 adds it on send."""
    headers = [
        (str(k), v.decode("latin-1") if isinstance(v, bytes) else str(v))
        for k, v in request.headers.items()
    ]
    present = {k.lower() for k, _ in headers}
    if "host" not in present:
        headers.append(("Host", urlsplit(request.url).netloc))
    if body and "content-length" not in present:
        headers.append(("Content-Length", str(len(body))))
    return headers


def before_send(request: Any, **_kwargs: Any) -> AWSResponse | None:
    """botocore's before-send handler: the mock's answer, or None to send as usual."""
    mock = answerer_for(request.url)
    if mock is None:
        return None
    body = request_body(request.body)
    reply = mock.answer(request.method, request.url, request_headers(request, body), body)
    response = AWSResponse(request.url, reply.status, reply.headers, _Body(reply.body))
    request.url = ANSWERED_URL
    return response


def install() -> None:
    """Carry the handler on every botocore session created from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        for event in EVENTS:
            BUILTIN_HANDLERS.append((event, before_send))
    # boto3's default session may predate this import; register on it too. Clients copy their
    # session's handlers when created, so clients made before this point are not reached.
    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None:
        for event in EVENTS:
            session.events.register(event, before_send, unique_id=f"complyd.testing:{event}")
