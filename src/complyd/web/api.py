"""POST /: the AWS JSON 1.1 API, as a plain ASGI endpoint.

Owns the request path of the four operations: the body read under its cap, the caller, the
X-Amz-Target dispatch table, running each operation (or, with an upstream, forwarding a call
for any other operation), AWS error rendering, and reporting each request's outcome to the
metrics and the access log. Puts are awaited on the store's write future (no thread is held
while the disk syncs); list reads go to the store's `run_read`, marked bounded when they are a
keyset page with no filter or reads only the fleet counters. Must not contain compliance rules.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from complyd.errors import (
    AccessDeniedException,
    ComplianceError,
    InternalServerError,
    RequestEntityTooLargeException,
    SerializationException,
    ThrottlingException,
)
from complyd.model import Page, Tenant
from complyd.service import ComplianceService
from complyd.web.access import OK, Outcome, log_request
from complyd.web.auth import Authenticator, Caller, access_key_id_of
from complyd.web.throttle import RateLimiter
from complyd.web.upstream import Upstream
from complyd.wire import codec, json11
from complyd.wire.sigv4 import SignedRequest
from complyd.wire.tokens import TokenCodec

log = logging.getLogger("complyd")

Handler = Callable[[Tenant, dict[str, Any]], Awaitable[bytes]]
Observer = Callable[[str, str, float], None]

WRITE_OPERATIONS = frozenset({"PutComplianceItems"})
# Requests naming no served operation share one metrics label, so a client sending random
# X-Amz-Target values cannot grow the label set.
UNKNOWN_OPERATION = "unknown"
# Puts of more items than this are decoded and validated off the event loop.
INLINE_DECODE_ITEMS = 256
_CONTENT_TYPE = json11.CONTENT_TYPE.encode("ascii")


@dataclass(frozen=True, slots=True)
class ApiOptions:
    body_limit: int
    access_log: bool


def headers_of(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated headers joined with ',' (as SigV4 does)."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The body, refused as soon as it is known to be larger than `limit` bytes."""
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    message = await receive()
    body: bytes = message.get("body", b"")
    more = message.get("more_body", False)
    if message["type"] != "http.request":
        raise _hung_up()
    size = len(body)
    if size > limit:
        raise _too_large(limit)
    if not more:
        return body
    chunks = [body]
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise _hung_up()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _too_large(limit: int) -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(
        f"The request body is larger than the {limit} bytes this server accepts "
        "(see --max-body-size)."
    )


def _hung_up() -> SerializationException:
    # A client that hangs up mid-body sent a truncated request, not a server fault.
    return SerializationException("The connection closed before the request body was complete.")


def access_denied(caller: Caller, operation: str) -> AccessDeniedException:
    t = caller.tenant
    return AccessDeniedException(
        f"User: arn:aws:iam::{t.account_id}:user/{caller.access_key_id} is not authorized to "
        f"perform: ssm:{operation} on resource: arn:aws:ssm:{t.region}:{t.account_id}:* "
        "because the access key is read-only"
    )


class Api:
    """The four operations: a literal dispatch table from X-Amz-Target to handler."""

    def __init__(
        self,
        service: ComplianceService,
        tokens: TokenCodec,
        authenticator: Authenticator,
        limiter: RateLimiter | None,
        options: ApiOptions,
        observe: Observer,
        upstream: Upstream | None = None,
    ) -> None:
        self.service = service
        self.tokens = tokens
        self.authenticator = authenticator
        self.limiter = limiter
        self.options = options
        self.observe = observe
        self.upstream = upstream
        # One literal row per X-Amz-Target operation.
        self.handlers: dict[str, Handler] = {
            "PutComplianceItems": self.put_compliance_items,
            "ListComplianceItems": partial(self._list, "ListComplianceItems"),
            "ListComplianceSummaries": partial(self._list, "ListComplianceSummaries"),
            "ListResourceComplianceSummaries": partial(
                self._list, "ListResourceComplianceSummaries"
            ),
        }

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        request_id = json11.new_request_id()
        headers = headers_of(scope)
        target = headers.get("x-amz-target")
        operation = json11.served_operation(target)
        outcome = Outcome(operation or UNKNOWN_OPERATION, OK, request_id)
        if operation is None and self.upstream is not None:
            await self._forward(scope, receive, send, outcome, start)
            return
        status = 200
        try:
            raw = await read_body(receive, headers, self.options.body_limit)
            signed = SignedRequest(
                method="POST",
                raw_path=scope.get("raw_path", b"/").decode("latin-1"),
                raw_query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=raw,
            )
            caller = self.authenticator.caller(signed)
            outcome.access_key_id = caller.access_key_id
            if self.limiter is not None and not self.limiter.allow(caller.access_key_id):
                raise ThrottlingException("Rate exceeded")
            name = json11.operation_for(target)
            if caller.read_only and name in WRITE_OPERATIONS:
                raise access_denied(caller, name)
            json11.check_content_type(headers.get("content-type"))
            body = json11.parse_body(raw)
            payload = await self.handlers[name](caller.tenant, body)
        except ComplianceError as error:
            outcome.code, status, payload = error.code, error.status, json11.error_body(error)
            if outcome.access_key_id is None:
                outcome.access_key_id = access_key_id_of(headers.get("authorization"))
        except Exception:
            log.exception("internal error handling request %s", request_id)
            fault = InternalServerError(f"An internal error occurred. Request id: {request_id}")
            outcome.code, status, payload = fault.code, fault.status, json11.error_body(fault)
        await send(_start(status, request_id, len(payload)))
        await send({"type": "http.response.body", "body": payload})
        elapsed = time.perf_counter() - start
        self.observe(outcome.operation or UNKNOWN_OPERATION, outcome.code, elapsed)
        if self.options.access_log:
            log_request(scope, status, outcome, elapsed)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, outcome: Outcome, start: float
    ) -> None:
        """A call for another SSM operation: the upstream's answer, passed on as it came."""
        assert self.upstream is not None
        try:
            response = await self.upstream.forward(Request(scope, receive))
            outcome.code = OK if response.status_code == 200 else str(response.status_code)
        except ComplianceError as error:
            outcome.code = error.code
            response = Response(
                json11.error_body(error),
                status_code=error.status,
                headers=json11.response_headers(outcome.request_id or ""),
            )
        await response(scope, receive, send)
        elapsed = time.perf_counter() - start
        self.observe(outcome.operation, outcome.code, elapsed)
        if self.options.access_log:
            log_request(scope, response.status_code, outcome, elapsed)

    # -- the operations -----------------------------------------------------------------------

    async def put_compliance_items(self, tenant: Tenant, body: dict[str, Any]) -> bytes:
        items = body.get("Items")  # not yet validated: any JSON value
        if isinstance(items, list) and len(items) > INLINE_DECODE_ITEMS:
            loop = asyncio.get_running_loop()
            request = await loop.run_in_executor(None, codec.decode_put, body)
        else:
            request = codec.decode_put(body)
        await self.service.put(tenant, request)
        return b"{}"

    async def _list(self, op: str, tenant: Tenant, body: dict[str, Any]) -> bytes:
        """Any of the three list operations: decode, open the token, read a page (on the event
        loop when bounded), encode it, mint the next token."""
        call = LIST_CALLS[op]
        req = codec.decode_list(op, body)
        after = None
        if req.next_token is not None:
            after = self.tokens.open(req.next_token, op, tenant, req.fingerprint())
        page = await self.service.store.run_read(
            lambda: call.read(self.service, tenant, req, after), call.bounded(self.service, req)
        )
        token = None
        if page.last_key is not None:
            token = self.tokens.mint(op, tenant, req.fingerprint(), page.last_key)
        return orjson.dumps(codec.page_body(call.member, call.encode(page.rows), token))


@dataclass(frozen=True, slots=True)
class ListCall:
    """One list operation: the member its rows go in, whether its read is bounded (so may run
    on the event loop), the read, and the rows' encoding."""

    member: str
    bounded: Callable[[ComplianceService, codec.ListRequest], bool]
    read: Callable[[ComplianceService, Tenant, codec.ListRequest, Cursor], Page[Any]]
    encode: Callable[[Sequence[Any]], list[dict[str, Any]]]


Cursor = tuple[str, ...] | None
LIST_CALLS = {
    "ListComplianceItems": ListCall(
        "ComplianceItems",
        lambda service, req: not req.filters,
        lambda service, tenant, req, after: service.compliance_item_records(
            tenant, req.resource_ids, req.resource_types, req.filters, after, req.max_results
        ),
        codec.encode_item_records,
    ),
    "ListResourceComplianceSummaries": ListCall(
        "ResourceComplianceSummaryItems",
        lambda service, req: not req.filters,
        lambda service, tenant, req, after: service.resource_summary_records(
            tenant, req.filters, after, req.max_results
        ),
        codec.encode_summary_records,
    ),
    "ListComplianceSummaries": ListCall(
        "ComplianceSummaryItems",
        lambda service, req: service.compliance_summaries_bounded(req.filters),
        lambda service, tenant, req, after: service.list_compliance_summaries(
            tenant, req.filters, after, req.max_results
        ),
        lambda rows: [codec.encode_type_summary(r) for r in rows],
    ),
}


def _start(status: int, request_id: str, length: int) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", _CONTENT_TYPE),
            (b"x-amzn-requestid", request_id.encode("ascii")),
            (b"content-length", str(length).encode("ascii")),
        ],
    }
