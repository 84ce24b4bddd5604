"""create_app(settings): the Starlette application serving the AWS JSON 1.1 API and /healthz.

Owns routing, the X-Amz-Target dispatch table, error rendering and running blocking store work
off the event loop. Must not contain compliance rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from complyd.config import Settings
from complyd.errors import (
    AccessDeniedException,
    ComplianceError,
    InternalServerError,
    RequestEntityTooLargeException,
    SerializationException,
    ThrottlingException,
)
from complyd.model import MANAGED_INSTANCE, Tenant
from complyd.service import ComplianceService
from complyd.storage.base import Store
from complyd.storage.sql import SqlStore
from complyd.web.auth import Caller, authenticator_for
from complyd.web.background import background_tasks
from complyd.web.metrics import Metrics
from complyd.web.reset import PATH as RESET_PATH
from complyd.web.reset import Reset
from complyd.web.throttle import RateLimiter
from complyd.web.ui import Dashboard
from complyd.web.upstream import Upstream
from complyd.wire import codec, json11
from complyd.wire.sigv4 import SignedRequest
from complyd.wire.tokens import TokenCodec

log = logging.getLogger("complyd")

Handler = Callable[[Tenant, dict[str, Any], int], Awaitable[dict[str, Any]]]
ListHandler = Callable[[Tenant, dict[str, Any]], dict[str, Any]]


def in_thread(handler: ListHandler) -> Handler:
    """A blocking list handler run in a worker thread, so reads never stall the event loop."""

    async def run(tenant: Tenant, body: dict[str, Any], _size: int) -> dict[str, Any]:
        return await run_in_threadpool(handler, tenant, body)

    return run


# Bodies larger than this are decoded and validated off the event loop.
INLINE_DECODE_BYTES = 64 * 1024


class Api:
    """The four operations as JSON-in, JSON-out handlers.

    Puts are awaited on the store's write future (no thread is held while the disk syncs);
    list calls are blocking reads and run in a worker thread.
    """

    def __init__(self, service: ComplianceService, tokens: TokenCodec) -> None:
        self.service = service
        self.tokens = tokens
        # One literal row per X-Amz-Target operation.
        self.handlers: dict[str, Handler] = {
            "PutComplianceItems": self.put_compliance_items,
            "ListComplianceItems": in_thread(self.list_compliance_items),
            "ListComplianceSummaries": in_thread(self.list_compliance_summaries),
            "ListResourceComplianceSummaries": in_thread(self.list_resource_compliance_summaries),
        }

    async def call(self, operation: str, tenant: Tenant, body: dict[str, Any], size: int) -> bytes:
        return orjson.dumps(await self.handlers[operation](tenant, body, size))

    async def put_compliance_items(
        self, tenant: Tenant, body: dict[str, Any], size: int
    ) -> dict[str, Any]:
        if size > INLINE_DECODE_BYTES:
            request = await run_in_threadpool(codec.decode_put, body)
        else:
            request = codec.decode_put(body)
        await asyncio.wrap_future(self.service.submit_put(tenant, request))
        return {}

    def _cursor(self, op: str, tenant: Tenant, req: codec.ListRequest) -> tuple[str, ...] | None:
        if req.next_token is None:
            return None
        return self.tokens.open(req.next_token, op, tenant, req.fingerprint())

    def _token(
        self, op: str, tenant: Tenant, req: codec.ListRequest, last_key: tuple[str, ...] | None
    ) -> str | None:
        if last_key is None:
            return None
        return self.tokens.mint(op, tenant, req.fingerprint(), last_key)

    def list_compliance_items(self, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
        op = "ListComplianceItems"
        req = codec.decode_list(op, body)
        page = self.service.list_compliance_items(
            tenant,
            req.resource_ids,
            req.resource_types,
            req.filters,
            self._cursor(op, tenant, req),
            req.max_results,
        )
        rows = [codec.encode_item(i, MANAGED_INSTANCE) for i in page.rows]
        return codec.page_body("ComplianceItems", rows, self._token(op, tenant, req, page.last_key))

    def list_compliance_summaries(self, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
        op = "ListComplianceSummaries"
        req = codec.decode_list(op, body)
        page = self.service.list_compliance_summaries(
            tenant, req.filters, self._cursor(op, tenant, req), req.max_results
        )
        rows = [codec.encode_type_summary(r) for r in page.rows]
        token = self._token(op, tenant, req, page.last_key)
        return codec.page_body("ComplianceSummaryItems", rows, token)

    def list_resource_compliance_summaries(
        self, tenant: Tenant, body: dict[str, Any]
    ) -> dict[str, Any]:
        op = "ListResourceComplianceSummaries"
        req = codec.decode_list(op, body)
        page = self.service.list_resource_compliance_summaries(
            tenant, req.filters, self._cursor(op, tenant, req), req.max_results
        )
        rows = [codec.encode_resource_summary(r) for r in page.rows]
        token = self._token(op, tenant, req, page.last_key)
        return codec.page_body("ResourceComplianceSummaryItems", rows, token)


WRITE_OPERATIONS = frozenset({"PutComplianceItems"})


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to be larger than `limit` bytes."""
    too_large = RequestEntityTooLargeException(
        f"The request body is larger than the {limit} bytes this server accepts "
        "(see --max-body-size)."
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        # A client that hangs up mid-body sent a truncated request, not a server fault.
        raise SerializationException(
            "The connection closed before the request body was complete."
        ) from None
    return b"".join(chunks)


def signed_request(request: Request, body: bytes) -> SignedRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return SignedRequest(
        method=request.method,
        raw_path=request.scope.get("raw_path", b"/").decode("latin-1"),
        raw_query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )


def access_denied(caller: Caller, operation: str) -> AccessDeniedException:
    t = caller.tenant
    return AccessDeniedException(
        f"User: arn:aws:iam::{t.account_id}:user/{caller.access_key_id} is not authorized to "
        f"perform: ssm:{operation} on resource: arn:aws:ssm:{t.region}:{t.account_id}:* "
        "because the access key is read-only"
    )


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    store = store if store is not None else SqlStore(settings.resolved_db_url)
    api = Api(ComplianceService(store, settings), TokenCodec(store.token_key()))
    authenticator = authenticator_for(settings.credentials)
    limiter = RateLimiter(settings.rate_limit, settings.burst) if settings.rate_limit else None
    body_limit = settings.body_size_limit
    upstream = Upstream(settings.upstream, settings.upstream_timeout) if settings.upstream else None

    async def dispatch(request: Request) -> Response:
        request_id = json11.new_request_id()
        headers = json11.response_headers(request_id)
        try:
            if upstream is not None and not json11.served(request.headers.get("x-amz-target")):
                return await upstream.forward(request)
            raw = await read_body(request, body_limit)
            caller = authenticator.caller(signed_request(request, raw))
            if limiter is not None and not limiter.allow(caller.access_key_id):
                raise ThrottlingException("Rate exceeded")
            operation = json11.operation_for(request.headers.get("x-amz-target"))
            if caller.read_only and operation in WRITE_OPERATIONS:
                raise access_denied(caller, operation)
            json11.check_content_type(request.headers.get("content-type"))
            body = json11.parse_body(raw)
            result = await api.call(operation, caller.tenant, body, len(raw))
            return Response(result, status_code=200, headers=headers)
        except ComplianceError as error:
            return Response(json11.error_body(error), status_code=error.status, headers=headers)
        except Exception:
            log.exception("internal error handling request %s", request_id)
            fault = InternalServerError(f"An internal error occurred. Request id: {request_id}")
            return Response(json11.error_body(fault), status_code=fault.status, headers=headers)

    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(store.ping)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with background_tasks(store, settings):
            yield
        if upstream is not None:
            await upstream.close()
        store.close()

    metrics = Metrics(store)
    routes = [
        Route("/", metrics.instrument(dispatch), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route(
            RESET_PATH,
            Reset(store, settings, authenticator, read_body, signed_request).endpoint,
            methods=["POST"],
        ),
        Dashboard(api.service, store, authenticator).mount(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.service = api.service
    app.state.authenticator = authenticator
    return app
