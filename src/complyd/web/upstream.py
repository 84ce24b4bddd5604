"""Forwarding to `--upstream`: every SSM call complyd does not serve, sent on unchanged.

Owns sending such a request to the upstream endpoint (moto's server, LocalStack, another SSM
endpoint) and streaming its answer back as it came: status, headers and body, less the headers
that describe only one hop of the connection. The request keeps its method, path, query,
headers (SigV4's and Host included, so an upstream that checks signatures sees what the client
signed) and body, streamed both ways. An upstream that cannot be reached, breaks off or is
slower than the timeout is answered with an AWS error naming it. Must not authenticate,
throttle or read the calls it forwards, and must not import the service or the store (an
import-linter contract): forwarded calls never touch complyd's data, the upstream decides.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from complyd.errors import (
    SerializationException,
    UpstreamTimeoutException,
    UpstreamUnavailableException,
)

log = logging.getLogger("complyd.upstream")

# RFC 9110 section 7.6.1: meaningful for one connection only, never passed on by a proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Both servers stamp their own; the upstream's would arrive twice.
REPLACED_BY_SERVER = frozenset({"date", "server"})

Headers = list[tuple[bytes, bytes]]


def _passed_on(raw: Headers, dropped: frozenset[str]) -> Headers:
    """`raw` without hop-by-hop headers, those the Connection header names, and `dropped`."""
    named = {
        token.strip().lower()
        for name, value in raw
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    return [
        (name, value)
        for name, value in raw
        if (key := name.decode("latin-1").lower()) not in HOP_BY_HOP
        and key not in named
        and key not in dropped
    ]


class Upstream:
    """The endpoint given with `--upstream`, and one connection pool to it."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, inside the server's event loop.
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                # The upstream is named explicitly: no proxy or .netrc from the environment.
                trust_env=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def forward(self, request: Request) -> Response:
        """The upstream's answer to `request`; raises an AWS error when there is none."""
        target = request.headers.get("x-amz-target") or "(no X-Amz-Target)"
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        url = self.url + raw_path.decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
        client = self._http()
        outgoing = client.build_request(
            request.method,
            url,
            headers=_passed_on(list(request.headers.raw), frozenset()),
            content=request.stream(),
        )
        try:
            # httpx bounds each read; this bounds the whole wait for the answer's headers.
            async with asyncio.timeout(self.timeout):
                answer = await client.send(outgoing, stream=True)
        except (TimeoutError, httpx.TimeoutException):
            raise self._timed_out(target) from None
        except ClientDisconnect:
            raise SerializationException(
                "The connection closed before the request body was complete."
            ) from None
        except httpx.TransportError as exc:
            raise self._unavailable(target, exc) from None
        log.debug("forwarded %s to %s: %d", target, self.url, answer.status_code)
        response = StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            background=BackgroundTask(answer.aclose),
        )
        response.raw_headers = _passed_on(answer.headers.raw, REPLACED_BY_SERVER)
        return response

    def _timed_out(self, target: str) -> UpstreamTimeoutException:
        message = (
            f"The upstream endpoint {self.url} did not answer {target} within "
            f"{self.timeout:g} s (--upstream-timeout)."
        )
        log.warning("%s", message)
        return UpstreamTimeoutException(message)

    def _unavailable(self, target: str, exc: httpx.TransportError) -> UpstreamUnavailableException:
        reason = str(exc) or type(exc).__name__
        message = (
            f"The upstream endpoint {self.url} could not be reached for {target}: {reason}. "
            "Check that it is running and that --upstream names it."
        )
        log.warning("%s", message)
        return UpstreamUnavailableException(message)
