"""The read-only compliance dashboard under /ui: fleet, resources and node views, per tenant.

Owns the dashboard's routes and what each view reads and renders. Reads only through
ComplianceService (and Store.tenants() via the session); must not write compliance data nor
contain compliance rules. The tenant always comes from the session (`ui_session`), never from a
URL, so a link or a keyset position in a query string (`ui_params`) cannot reach another
tenant's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from complyd.errors import ComplianceError
from complyd.model import (
    FLEET_TOTAL,
    Filter,
    ResourceSummary,
    Status,
    StoredItem,
    Tenant,
    TypeSummary,
)
from complyd.service import ComplianceService
from complyd.storage.base import Store
from complyd.web.charts import SEVERITIES_SHOWN, TypeCard, type_card
from complyd.web.ui_params import (
    MAX_PARAM,
    STATUS_LABELS,
    Query,
    keyset,
    linker,
    node_linker,
    page_number,
)
from complyd.web.ui_session import (
    KeyChecker,
    Sessions,
    Viewer,
    form_token,
    has_form_token,
    read_form,
)

MOUNT_PATH = "/ui"
ROWS_PER_PAGE = 50
ITEMS_PER_PAGE = 200
# The service pages ListComplianceSummaries by 50 types; a tenant rarely has more than a few.
TYPE_PAGE = 50
FORM_BODY_LIMIT = 16 * 1024
EXPIRED_FORM = "This form expired; reload the page."
SECURITY_HEADERS = {
    # Everything is served from here; no script runs on any page.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show one tenant's data: never keep them in a shared cache.
    "Cache-Control": "no-store",
}


def when(epoch_ms: int) -> str:
    return _moment(epoch_ms).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(epoch_ms: int) -> str:
    return _moment(epoch_ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(epoch_ms: int) -> datetime:
    # Not datetime.fromtimestamp: it refuses some of the years 1..9999 complyd stores.
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)


@dataclass(frozen=True, slots=True)
class ItemGroup:
    compliance_type: str
    items: list[StoredItem]


def by_type(items: Sequence[StoredItem]) -> list[ItemGroup]:
    """Consecutive items of one type, in the order the service lists them."""
    groups: list[ItemGroup] = []
    for item in items:
        if not groups or groups[-1].compliance_type != item.compliance_type:
            groups.append(ItemGroup(item.compliance_type, []))
        groups[-1].items.append(item)
    return groups


class Dashboard:
    """The dashboard's handlers over one service, store and authenticator."""

    def __init__(self, service: ComplianceService, store: Store, keys: KeyChecker) -> None:
        self.service = service
        self.keys = keys
        self.sessions = Sessions(store, keys)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("complyd.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = when
        self.templates.filters["iso"] = iso
        self.templates.filters["number"] = lambda n: f"{n:,}"
        self.templates.globals["SEVERITIES"] = SEVERITIES_SHOWN
        self.templates.globals["STATUSES"] = (Status.NON_COMPLIANT, Status.COMPLIANT)
        self.templates.globals["STATUS_LABELS"] = STATUS_LABELS
        self.templates.globals["FLEET_TOTAL"] = FLEET_TOTAL

    def mount(self) -> Mount:
        routes = [
            Route("/", self.fleet, methods=["GET"]),
            Route("/resources", self.resources, methods=["GET"]),
            Route("/resources/{resource_id:path}", self.node, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/tenant", self.choose_tenant, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("complyd.web", "static")])),
        ]
        return Mount(
            MOUNT_PATH,
            routes=routes,
            middleware=[self.sessions.middleware(MOUNT_PATH)],
            max_body_size=FORM_BODY_LIMIT,
        )

    # -- rendering ------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        root = _root(request)
        html = self.templates.get_template(template).render(
            root=root,
            url=linker(root),
            node_url=node_linker(root),
            viewer=viewer,
            tenant=viewer.tenant if viewer else None,
            tenant_choices=self.sessions.tenant_choices(viewer) if viewer else [],
            keys_configured=self.keys.keys_configured,
            csrf=form_token(request),
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def error(
        self, request: Request, viewer: Viewer | None, status_code: int, message: str
    ) -> HTMLResponse:
        return self.render(
            request, "error.html", viewer, status_code, message=message, nav="", title="Error"
        )

    @staticmethod
    def redirect(request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(_root(request) + path, status_code=303, headers=SECURITY_HEADERS)

    # -- views (blocking store reads: Starlette runs sync handlers in a worker thread) -----

    def fleet(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        rows: list[TypeSummary] = []
        after: tuple[str, ...] | None = None
        while True:
            page = self.service.list_compliance_summaries(viewer.tenant, [], after, TYPE_PAGE)
            rows.extend(page.rows)
            if page.last_key is None:
                break
            after = page.last_key
        cards: list[TypeCard] = [type_card(r) for r in rows]
        if cards and cards[0].is_fleet_total and cards[0].total == 0:
            cards = []
        return self.render(request, "fleet.html", viewer, nav="fleet", cards=cards)

    def resources(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        params = request.query_params
        query = Query.read(params)
        number = page_number(params)
        try:
            page = self.service.list_resource_compliance_summaries(
                viewer.tenant,
                query.summary_filters(),
                keyset(params, "after_resource", "after_type"),
                ROWS_PER_PAGE,
            )
        except ComplianceError as error:
            return self.error(request, viewer, 400, error.message)
        next_url = None
        if page.last_key is not None:
            resume = {"after_resource": page.last_key[0], "after_type": page.last_key[1]}
            next_url = linker(_root(request))(
                "/resources", **query.params(), **resume, page=str(number + 1)
            )
        # A text field with suggestions, not a list of every type: listing a tenant's types
        # would count all its summary rows on every page load.
        type_options = sorted(
            {"Association", "Patch", *(r.compliance_type for r in page.rows)}
            | ({query.compliance_type} if query.compliance_type else set())
        )
        return self.render(
            request,
            "resources.html",
            viewer,
            nav="resources",
            query=query,
            rows=page.rows,
            page=number,
            next_url=next_url,
            type_options=type_options,
        )

    def node(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        resource_id = request.path_params["resource_id"]
        params = request.query_params
        query = Query.read(params)
        number = page_number(params)
        position = keyset(params, "after_type", "after_item")
        try:
            summaries = self._node_summaries(viewer.tenant, resource_id)
            if not summaries:
                missing = (
                    f"No compliance data for resource {resource_id} in this account and region."
                )
                return self.error(request, viewer, 404, missing)
            page = self.service.list_compliance_items(
                viewer.tenant,
                [resource_id],
                None,
                query.item_filters(),
                None if position is None else (resource_id, *position),
                ITEMS_PER_PAGE,
            )
        except ComplianceError as error:
            return self.error(request, viewer, 400, error.message)
        next_url = None
        if page.last_key is not None:
            resume = {"after_type": page.last_key[1], "after_item": page.last_key[2]}
            next_url = node_linker(_root(request))(
                resource_id, **query.node_params(), **resume, page=str(number + 1)
            )
        return self.render(
            request,
            "node.html",
            viewer,
            nav="resources",
            resource_id=resource_id,
            summaries=summaries,
            non_compliant=any(s.status is Status.NON_COMPLIANT for s in summaries),
            groups=by_type(page.rows),
            query=query,
            page=number,
            next_url=next_url,
        )

    def _node_summaries(self, tenant: Tenant, resource_id: str) -> list[ResourceSummary]:
        rows: list[ResourceSummary] = []
        after: tuple[str, ...] | None = None
        only = [Filter("ResourceId", (resource_id,))]
        while True:
            page = self.service.list_resource_compliance_summaries(
                tenant, only, after, ROWS_PER_PAGE
            )
            rows.extend(page.rows)
            if page.last_key is None:
                return rows
            after = page.last_key

    # -- sign-in and tenant choice --------------------------------------------------------

    def login_form(self, request: Request) -> Response:
        if not self.keys.keys_configured:
            return self.redirect(request, "/")
        return self.render(request, "login.html", None, nav="", error="", access_key_id="")

    async def login(self, request: Request) -> Response:
        if not self.keys.keys_configured:
            return self.redirect(request, "/")
        form = await read_form(request)
        if not has_form_token(request, form):
            return self.error(request, None, 403, EXPIRED_FORM)
        access_key_id = form.get("access_key_id", "").strip()[:MAX_PARAM]
        secret, region = form.get("secret_access_key", ""), form.get("region", "").strip()
        # Store.tenants() may run when no region is given: keep it off the event loop.
        problem = await run_in_threadpool(
            self.sessions.sign_in, request, access_key_id, secret, region
        )
        if problem:
            return self.render(
                request,
                "login.html",
                None,
                401,
                nav="",
                error=problem,
                access_key_id=access_key_id,
            )
        return self.redirect(request, "/")

    async def logout(self, request: Request) -> Response:
        form = await read_form(request)
        if not has_form_token(request, form):
            return self.error(request, None, 403, EXPIRED_FORM)
        request.session.clear()
        return self.redirect(request, "/login" if self.keys.keys_configured else "/")

    async def choose_tenant(self, request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(self._choose_tenant, request, form)

    def _choose_tenant(self, request: Request, form: dict[str, str]) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        if not has_form_token(request, form):
            return self.error(request, viewer, 403, EXPIRED_FORM)
        if not self.sessions.choose(request, viewer, form.get("tenant", "")):
            return self.error(request, viewer, 400, "Choose one of the listed tenants.")
        return self.redirect(request, "/")


def _root(request: Request) -> str:
    """Where the dashboard is mounted, as the request reached it."""
    return str(request.scope.get("root_path", ""))
