"""The HTTP/1.1 connection protocol complyd serves with: uvicorn's httptools protocol, with
request heads bounded and each response written in one piece.

llhttp, under httptools, accepts a request line and headers of any size and number, and
uvicorn keeps them all in memory, so one client could send a 100 MB header or a million
headers. Here a request whose line and headers take more than `Limits.head_bytes`, or that
carries more than `Limits.headers` header fields, is answered `431` with an AWS-shaped body
(`RequestHeaderFieldsTooLarge`) and its connection closed, before the application sees it.
Must not know what the application does with a request.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADERS_TOO_LARGE = "RequestHeaderFieldsTooLarge"
# Bytes per header line beyond its name and value: ": " and CRLF.
_LINE_OVERHEAD = 4


@dataclass(frozen=True, slots=True)
class Limits:
    head_bytes: int = 64 * 1024
    headers: int = 100


class CoalescingTransport:
    """A transport whose writes within one turn of the event loop go out as one write.

    uvicorn writes a response's head when the application starts the response and its body
    when it sends it, each a send(2) of its own; an API answer sends both in the same turn, so
    holding the first until the second (or the end of the turn) halves the system calls per
    response. Everything but write and close is the wrapped transport's own.
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def flush(self) -> None:
        if not self._held:
            return
        data = b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _HeadTooLarge(Exception):
    """Raised from a parser callback; httptools re-raises it as HttpParserCallbackError."""


def configure_limits(limits: Limits) -> None:
    """The limits every connection of this process takes from now on."""
    BoundedHttpToolsProtocol.limits = limits


# What uvicorn is given as the HTTP protocol (`--http`), by name so worker processes import it.
PROTOCOL = "complyd.web.protocol:BoundedHttpToolsProtocol"


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    limits = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        # Raw bytes received since the current request began, while its head is incomplete:
        # bounds what the parser buffers for a header that is still arriving.
        self._raw_in_head = 0
        self._in_head = False
        self._refusal: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._raw_in_head = 0
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= self.limits.headers:
            self._refusal = (
                f"The request carries more than {self.limits.headers} header fields, the most "
                "this server accepts."
            )
            raise _HeadTooLarge
        self._count(len(name) + len(value) + _LINE_OVERHEAD)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, n: int) -> None:
        self._head_bytes += n
        if self._head_bytes > self.limits.head_bytes:
            self._refusal = self._too_many_bytes()
            raise _HeadTooLarge

    def _too_many_bytes(self) -> str:
        return (
            f"The request line and headers take more than {self.limits.head_bytes} bytes, the "
            "most this server accepts (see --max-header-size)."
        )

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, except that a head over the limits is answered 431
        # (uvicorn would log and answer any parser error as a plain 400).
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(self._refusal)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if self._in_head:
            self._raw_in_head += len(data)
            if self._raw_in_head > self.limits.head_bytes + _LINE_OVERHEAD:
                self._refuse(self._too_many_bytes())

    def _refuse(self, message: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        body = orjson.dumps({"__type": HEADERS_TOO_LARGE, "message": message})
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "content-type: application/x-amz-json-1.1\r\n"
            f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
