"""The read-only compliance dashboard under /ui: fleet, resources and node views, per tenant,
and the all-tenants roll-up for auditors.

Owns the dashboard's routes and what each view reads and renders. Reads only through
ComplianceService, the history queries, the roll-up and (via the session) Store.tenants();
must not write compliance data nor contain compliance rules. The tenant always comes from the
session (`ui_session`), never from a URL, so a link or a keyset position in a query string
(`ui_params`) cannot reach another tenant's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from complyd.clock import now_ms
from complyd.errors import ComplianceError
from complyd.model import (
    FLEET_TOTAL,
    Filter,
    ResourceSummary,
    Status,
    Tenant,
    TypeSummary,
)
from complyd.service import ComplianceService
from complyd.web.charts import SEVERITIES_SHOWN, TypeCard, type_card
from complyd.web.timecharts import Trend, trend
from complyd.web.ui_csv import csv_filename, summary_csv
from complyd.web.ui_params import (
    MAX_PARAM,
    SORTS,
    STATUS_LABELS,
    TREND_DAYS,
    Query,
    Sort,
    keyset,
    linker,
    node_linker,
    page_number,
    trend_days,
)
from complyd.web.ui_session import (
    KeyChecker,
    Sessions,
    Viewer,
    form_token,
    has_form_token,
    read_form,
)
from complyd.web.ui_shapes import age, by_type, day, iso, timeline, when

MOUNT_PATH = "/ui"
ROWS_PER_PAGE = 50
ITEMS_PER_PAGE = 200
# Changes of one node drawn on its timeline (the newest ones).
TIMELINE_CHANGES = 200
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


class Dashboard:
    """The dashboard's handlers over one service and authenticator."""

    def __init__(self, service: ComplianceService, keys: KeyChecker) -> None:
        self.service = service
        self.fleet_reads = service.fleet
        self.keys = keys
        self.sessions = Sessions(service.fleet, keys)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("complyd.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = when
        self.templates.filters["iso"] = iso
        self.templates.filters["day"] = day
        self.templates.filters["number"] = lambda n: f"{n:,}"
        self.templates.globals["age"] = age
        self.templates.globals["SEVERITIES"] = SEVERITIES_SHOWN
        self.templates.globals["STATUSES"] = (Status.NON_COMPLIANT, Status.COMPLIANT)
        self.templates.globals["STATUS_LABELS"] = STATUS_LABELS
        self.templates.globals["FLEET_TOTAL"] = FLEET_TOTAL

    def mount(self) -> Mount:
        routes = [
            Route("/", self.fleet, methods=["GET"]),
            Route("/resources", self.resources, methods=["GET"]),
            Route("/resources.csv", self.resources_csv, methods=["GET"]),
            Route("/tenants", self.tenants, methods=["GET"]),
            Route("/resources/{resource_id:path}", self.node, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/tenant", self.choose_tenant, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("complyd.web", "static")])),
            Route("/{path:path}", self.not_found),
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
            now_ms=now_ms(),
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def error(
        self,
        request: Request,
        viewer: Viewer | None,
        status_code: int,
        message: str,
        title: str = "Something went wrong",
        links: Sequence[tuple[str, str]] = (),
    ) -> HTMLResponse:
        """A page saying what went wrong, with links back to where the person can go on."""
        url = linker(_root(request))
        back = [*links, ("Fleet", url("/"))] if viewer else [("Sign in", url("/login"))]
        return self.render(
            request,
            "error.html",
            viewer,
            status_code,
            message=message,
            nav="",
            title=title,
            links=back,
        )

    def not_found(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        path = _root(request) + "/" + request.path_params["path"]
        return self.error(
            request,
            viewer,
            404,
            f"There is no dashboard page at {path}.",
            title="Page not found",
            links=[("Resources", linker(_root(request))("/resources"))] if viewer else [],
        )

    @staticmethod
    def redirect(request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(_root(request) + path, status_code=303, headers=SECURITY_HEADERS)

    # -- views (blocking store reads: Starlette runs sync handlers in a worker thread) -----

    def fleet(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        rows = self._type_summaries(viewer.tenant, [])
        cards: list[TypeCard] = [type_card(r) for r in rows]
        if cards and cards[0].is_fleet_total and cards[0].total == 0:
            cards = []
        days = trend_days(request.query_params)
        trends: dict[str, Trend] = {}
        if cards:
            series = self.fleet_reads.type_trends(viewer.tenant, days)
            trends = {t: trend(points) for t, points in series.items()}
            fleet = self.fleet_reads.fleet_trend(viewer.tenant, days)
            trends[FLEET_TOTAL] = trend(fleet)
        return self.render(
            request,
            "fleet.html",
            viewer,
            nav="fleet",
            cards=cards,
            trends=trends,
            days=days,
            day_choices=TREND_DAYS,
        )

    def _type_summaries(self, tenant: Tenant, filters: list[Filter]) -> list[TypeSummary]:
        """FleetTotal and every type: from the counters, or counting the selected rows."""
        rows: list[TypeSummary] = []
        after: tuple[str, ...] | None = None
        while True:
            page = self.service.list_compliance_summaries(tenant, filters, after, TYPE_PAGE)
            rows.extend(page.rows)
            if page.last_key is None:
                return rows
            after = page.last_key

    def resources(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        params = request.query_params
        query, sort = Query.read(params), Sort.read(params)
        number = page_number(params)
        after = keyset(params, "after_resource", "after_type")
        before = keyset(params, "before_resource", "before_type")
        filters = query.summary_filters(now_ms() / 1000)
        try:
            page = self.service.browse_resource_summaries(
                viewer.tenant,
                filters,
                sort.by,
                sort.descending,
                None if after is None else (after[0], after[1]),
                None if before is None or after is not None else (before[0], before[1]),
                ROWS_PER_PAGE,
            )
            totals = self._type_summaries(viewer.tenant, filters)
            all_types = totals if not query.active else self._type_summaries(viewer.tenant, [])
        except ComplianceError as error:
            return self.error(request, viewer, 400, error.message)
        url = linker(_root(request))
        here = {**query.params(), **sort.params()}
        next_url = prev_url = None
        if page.more_after and page.last_key is not None:
            resume = {"after_resource": page.last_key[0], "after_type": page.last_key[1]}
            next_url = url("/resources", **here, **resume, page=str(number + 1))
        if page.more_before and page.first_key is not None:
            back = {"before_resource": page.first_key[0], "before_type": page.first_key[1]}
            prev_url = url("/resources", **here, **back, page=str(max(1, number - 1)))
        fleet = totals[0] if totals and totals[0].compliance_type == FLEET_TOTAL else None
        type_rows = [t for t in totals if t.compliance_type != FLEET_TOTAL]
        row_total = sum(t.compliant.total + t.non_compliant.total for t in type_rows)
        type_options = sorted(
            {t.compliance_type for t in all_types if t.compliance_type != FLEET_TOTAL}
            | ({query.compliance_type} if query.compliance_type else set())
        )
        return self.render(
            request,
            "resources.html",
            viewer,
            nav="resources",
            query=query,
            sort=sort,
            rows=page.rows,
            page=number,
            next_url=next_url,
            prev_url=prev_url,
            type_options=type_options,
            row_total=row_total,
            row_non_compliant=sum(t.non_compliant.total for t in type_rows),
            # With one type selected FleetTotal is not counted (as the API leaves it out), and
            # each row is then a resource of its own.
            resource_total=(fleet.compliant.total + fleet.non_compliant.total)
            if fleet
            else row_total,
            csv_url=url("/resources.csv", **query.params()),
            first_url=url("/resources", **here),
            sort_urls={by: url("/resources", **query.params(), **sort.toggled(by)) for by in SORTS},
        )

    def resources_csv(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        query = Query.read(request.query_params)
        filters = query.summary_filters(now_ms() / 1000)
        try:  # a bad filter is refused before the download starts
            self.service.list_resource_compliance_summaries(viewer.tenant, filters, None, 1)
        except ComplianceError as error:
            return self.error(request, viewer, 400, error.message)
        headers = {
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{csv_filename(viewer.tenant)}"',
        }
        return StreamingResponse(
            summary_csv(self.service, viewer.tenant, filters),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )

    def tenants(self, request: Request) -> Response:
        viewer = self.sessions.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        if not viewer.sees_every_tenant:
            message = (
                f"The all-tenants view is for auditor keys; key {viewer.access_key_id} sees "
                f"account {viewer.tenant.account_id} only."
            )
            return self.error(request, viewer, 403, message, title="Not available")
        return self.render(
            request, "tenants.html", viewer, nav="tenants", rollups=self.fleet_reads.rollups()
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
        url = linker(_root(request))
        try:
            summaries = self._node_summaries(viewer.tenant, resource_id)
            if not summaries:
                t = viewer.tenant
                missing = (
                    f"No compliance data for resource {resource_id} in account "
                    f"{t.account_id}, region {t.region}."
                )
                similar = url("/resources", resource_id=resource_id[:8])
                return self.error(
                    request,
                    viewer,
                    404,
                    missing,
                    title="Resource not found",
                    links=[
                        ("Resources with a similar id", similar),
                        ("Resources", url("/resources")),
                    ],
                )
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
        changes = self.fleet_reads.recent_changes(viewer.tenant, resource_id, TIMELINE_CHANGES)
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
            timeline=timeline(changes, now_ms()),
            changes=list(reversed(changes)),
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
