"""create_app(settings): the ASGI application: the AWS JSON 1.1 API, the dashboard, /metrics and
/healthz.

Owns composing the parts: `POST /` goes straight to the API endpoint (`web.api`), everything
else to a Starlette application (routes, the access log of those routes, the lifespan that runs
background work and closes the store). Must not contain compliance rules.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from complyd.config import Settings
from complyd.service import ComplianceService
from complyd.storage.base import Store
from complyd.web.access import Observed
from complyd.web.api import Api, ApiOptions
from complyd.web.auth import authenticator_for
from complyd.web.background import background_tasks
from complyd.web.metrics import Metrics
from complyd.web.reload import reload_on_sighup
from complyd.web.reset import PATH as RESET_PATH
from complyd.web.reset import Reset
from complyd.web.throttle import RateLimiter
from complyd.web.ui import Dashboard
from complyd.web.upstream import Upstream
from complyd.wire.tokens import TokenCodec

log = logging.getLogger("complyd")


class Complyd:
    """The application: `POST /` to the API endpoint, every other request (and the lifespan)
    to the Starlette application of the other routes."""

    def __init__(self, api: Api, rest: Starlette) -> None:
        self.api = api
        self.rest = rest
        self.service = api.service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] == "POST":
            await self.api(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def create_app(settings: Settings, store: Store) -> Complyd:
    """The application over `store`, which it closes when its lifespan ends."""
    service = ComplianceService(store, settings)
    authenticator = authenticator_for(settings.credentials)
    limiter = RateLimiter(settings.rate_limit, settings.burst) if settings.rate_limit else None
    metrics = Metrics(service.fleet)
    upstream = Upstream(settings.upstream, settings.upstream_timeout) if settings.upstream else None
    options = ApiOptions(
        body_limit=settings.body_size_limit,
        access_log=settings.access_log,
    )
    api = Api(
        service,
        TokenCodec(service.fleet.token_key()),
        authenticator,
        limiter,
        options,
        metrics.observe,
        upstream,
    )

    async def browse(_request: Request) -> Response:
        # A browser pointed at the endpoint gets the dashboard; SDKs only ever POST here.
        return RedirectResponse("/ui/", status_code=302)

    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(service.fleet.ping)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with (
            background_tasks(store.history, settings),
            reload_on_sighup(authenticator, settings.credentials_file),
        ):
            yield
        if upstream is not None:
            await upstream.close()
        store.close()

    routes = [
        Route("/", browse, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route(RESET_PATH, Reset(service.fleet, settings, authenticator).endpoint, methods=["POST"]),
        Dashboard(service, authenticator).mount(),
    ]
    observed = Middleware(Observed, access_log=settings.access_log)
    rest = Starlette(routes=routes, middleware=[observed], lifespan=lifespan)
    return Complyd(api, rest)
