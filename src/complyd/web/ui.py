"""The read-only compliance dashboard under /ui: fleet, resources and node views, per tenant.

Owns the dashboard's routes, who the viewer is (a signed session cookie holding the chosen
tenant, never a secret), and turning query strings into service filters and keyset positions.
Reads only through ComplianceService and Store.tenants(); must not write compliance data nor
contain compliance rules. The tenant always comes from the session, never from a URL, so a
link or a keyset position in a query string cannot reach another tenant's data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode

import jinja2
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from complyd.errors import ComplianceError
from complyd.model import (
    DEFAULT_ACCOUNT_ID,
    FLEET_TOTAL,
    Filter,
    Operator,
    ResourceSummary,
    Severity,
    Status,
    StoredItem,
    Tenant,
    TypeSummary,
)
from complyd.service import ComplianceService
from complyd.storage.base import Store
from complyd.web.charts import SEVERITIES_SHOWN, TypeCard, type_card

DEFAULT_REGION = "us-east-1"
SESSION_COOKIE = "complyd_ui"
SESSION_MAX_AGE_S = 12 * 60 * 60
ROWS_PER_PAGE = 50
ITEMS_PER_PAGE = 200
# The service pages ListComplianceSummaries by 50 types; a tenant rarely has more than a few.
TYPE_PAGE = 50
FORM_BODY_LIMIT = 16 * 1024
# Longest query value read; AWS ids, types and item ids are far shorter.
MAX_PARAM = 2048
MAX_PAGE_NUMBER = 10**9
REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,4}")
ACCOUNT = re.compile(r"\d{12}")
STATUS_LABELS = {Status.COMPLIANT: "Compliant", Status.NON_COMPLIANT: "Non-compliant"}
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


class KeyChecker(Protocol):
    """The part of the API's authenticator the dashboard needs."""

    @property
    def keys_configured(self) -> bool: ...

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the tenant shown, and the access key signed in with (keyed mode)."""

    tenant: Tenant
    access_key_id: str | None = None


def session_secret(store: Store) -> str:
    """The cookie-signing key, derived from the token key kept in the database.

    Replicas sharing a database accept each other's sessions and no second secret is stored;
    the label keeps the two uses of the key apart.
    """
    return hmac.new(store.token_key(), b"complyd dashboard session", hashlib.sha256).hexdigest()


def parse_tenant(value: str) -> Tenant | None:
    account, _, region = value.partition("/")
    if ACCOUNT.fullmatch(account) and REGION.fullmatch(region):
        return Tenant(account, region)
    return None


def when(epoch_ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


def iso(epoch_ms: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def one_of(value: str, allowed: Iterable[str]) -> str:
    """`value` when it is one of `allowed`, else "" (any): a hand-edited URL never errors."""
    return value if value in allowed else ""


@dataclass(frozen=True, slots=True)
class Query:
    """The filters of a resources or node view, read from a query string."""

    compliance_type: str = ""
    status: str = ""
    severity: str = ""
    resource_id: str = ""

    @classmethod
    def read(cls, params: Mapping[str, str]) -> Query:
        return cls(
            compliance_type=params.get("compliance_type", "").strip()[:MAX_PARAM],
            status=one_of(params.get("status", ""), (s.value for s in Status)),
            severity=one_of(params.get("severity", ""), (s.value for s in Severity)),
            resource_id=params.get("resource_id", "").strip()[:MAX_PARAM],
        )

    def params(self) -> dict[str, str]:
        return {
            "compliance_type": self.compliance_type,
            "status": self.status,
            "severity": self.severity,
            "resource_id": self.resource_id,
        }

    def node_params(self) -> dict[str, str]:
        """The filters a node view reads: its resource id is in the path."""
        return {k: v for k, v in self.params().items() if k != "resource_id"}

    def summary_filters(self) -> list[Filter]:
        """Filters for the (resource, type) rows; the severity is the row's overall one."""
        filters = self._common()
        if self.severity:
            filters.append(Filter("OverallSeverity", (self.severity,)))
        if self.resource_id:
            filters.append(Filter("ResourceId", (self.resource_id,), Operator.BEGIN_WITH))
        return filters

    def item_filters(self) -> list[Filter]:
        filters = self._common()
        if self.severity:
            filters.append(Filter("Severity", (self.severity,)))
        return filters

    def _common(self) -> list[Filter]:
        filters = []
        if self.compliance_type:
            filters.append(Filter("ComplianceType", (self.compliance_type,)))
        if self.status:
            filters.append(Filter("Status", (self.status,)))
        return filters

    def described(self) -> list[tuple[str, str]]:
        """The active filters as (what, value) words for the table's caption."""
        shown = [
            ("type", self.compliance_type),
            ("status", STATUS_LABELS[Status(self.status)] if self.status else ""),
            ("overall severity", self.severity.capitalize()),
            ("resource id starting with", self.resource_id),
        ]
        return [(what, value) for what, value in shown if value]

    @property
    def active(self) -> bool:
        return any(self.params().values())


def keyset(params: Mapping[str, str], *names: str) -> tuple[str, ...] | None:
    """A keyset position from the query string: all of `names` present, or none."""
    values = tuple(params.get(n, "")[:MAX_PARAM] for n in names)
    return values if all(values) else None


def page_number(params: Mapping[str, str]) -> int:
    raw = params.get("page", "1")
    return min(int(raw), MAX_PAGE_NUMBER) if raw.isdigit() and int(raw) > 0 else 1


class Dashboard:
    """The dashboard's handlers over one service, store and authenticator."""

    def __init__(self, service: ComplianceService, store: Store, keys: KeyChecker) -> None:
        self.service = service
        self.store = store
        self.keys = keys
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
        session = Middleware(
            SessionMiddleware,
            secret_key=session_secret(self.store),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE_S,
            path="/ui",
            same_site="lax",
        )
        return Mount("/ui", routes=routes, middleware=[session], max_body_size=FORM_BODY_LIMIT)

    # -- who is looking -------------------------------------------------------------------

    def viewer(self, request: Request) -> Viewer | None:
        """The session's tenant; None when keys are configured and nobody has signed in."""
        session = request.session
        tenant = parse_tenant(f"{session.get('account_id', '')}/{session.get('region', '')}")
        if self.keys.keys_configured:
            key = session.get("access_key_id")
            if session.get("mode") != "key" or tenant is None or not isinstance(key, str):
                return None
            return Viewer(tenant, key)
        if session.get("mode") == "open" and tenant is not None:
            return Viewer(tenant)
        held = self.store.tenants()
        return Viewer(held[0] if held else Tenant(DEFAULT_ACCOUNT_ID, DEFAULT_REGION))

    def tenant_choices(self, viewer: Viewer) -> list[Tenant]:
        held = self.store.tenants()
        if self.keys.keys_configured:
            held = [t for t in held if t.account_id == viewer.tenant.account_id]
        return held if viewer.tenant in held else sorted([*held, viewer.tenant], key=_tenant_key)

    @staticmethod
    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(24)
            request.session["csrf"] = token
        return token

    # -- rendering ------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))
        html = self.templates.get_template(template).render(
            root=root,
            url=_linker(root),
            node_url=_node_linker(root),
            viewer=viewer,
            tenant=viewer.tenant if viewer else None,
            tenant_choices=self.tenant_choices(viewer) if viewer else [],
            keys_configured=self.keys.keys_configured,
            csrf=self.csrf(request),
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
        root = str(request.scope.get("root_path", ""))
        return RedirectResponse(root + path, status_code=303, headers=SECURITY_HEADERS)

    # -- views (blocking store reads: Starlette runs sync handlers in a worker thread) -----

    def fleet(self, request: Request) -> Response:
        viewer = self.viewer(request)
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
        viewer = self.viewer(request)
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
            next_url = _linker(str(request.scope.get("root_path", "")))(
                "/resources", **query.params(), **resume, page=str(number + 1)
            )
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
        viewer = self.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        resource_id = request.path_params["resource_id"]
        params = request.query_params
        query = Query.read(params)
        number = page_number(params)
        missing = f"No compliance data for resource {resource_id} in this account and region."
        try:
            summaries = self._node_summaries(viewer.tenant, resource_id)
            if not summaries:
                return self.error(request, viewer, 404, missing)
            page = self.service.list_compliance_items(
                viewer.tenant,
                [resource_id],
                None,
                query.item_filters(),
                _item_position(resource_id, keyset(params, "after_type", "after_item")),
                ITEMS_PER_PAGE,
            )
        except ComplianceError as error:
            return self.error(request, viewer, 400, error.message)
        next_url = None
        if page.last_key is not None:
            resume = {"after_type": page.last_key[1], "after_item": page.last_key[2]}
            next_url = _node_linker(str(request.scope.get("root_path", "")))(
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
            groups=_by_type(page.rows),
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
        form = await _form(request)
        if not _same_token(request, form):
            return self.error(request, None, 403, "This form expired; reload the page.")
        access_key_id = form.get("access_key_id", "").strip()[:MAX_PARAM]
        account = self.keys.check_secret(access_key_id, form.get("secret_access_key", ""))
        region = form.get("region", "").strip()
        if account is None or (region and not REGION.fullmatch(region)):
            message = (
                "That access key id and secret access key do not match a key on this server."
                if account is None
                else f"'{region}' is not a region name such as us-east-1."
            )
            return self.render(
                request,
                "login.html",
                None,
                401 if account is None else 400,
                nav="",
                error=message,
                access_key_id=access_key_id,
            )
        if not region:
            held = [t.region for t in self.store.tenants() if t.account_id == account]
            region = held[0] if held else DEFAULT_REGION
        request.session.clear()
        request.session.update(
            {"mode": "key", "access_key_id": access_key_id, "account_id": account, "region": region}
        )
        return self.redirect(request, "/")

    async def logout(self, request: Request) -> Response:
        form = await _form(request)
        if not _same_token(request, form):
            return self.error(request, None, 403, "This form expired; reload the page.")
        request.session.clear()
        return self.redirect(request, "/login" if self.keys.keys_configured else "/")

    async def choose_tenant(self, request: Request) -> Response:
        form = await _form(request)
        viewer = self.viewer(request)
        if viewer is None:
            return self.redirect(request, "/login")
        if not _same_token(request, form):
            return self.error(request, viewer, 403, "This form expired; reload the page.")
        chosen = parse_tenant(form.get("tenant", ""))
        if chosen is None or chosen not in self.tenant_choices(viewer):
            return self.error(request, viewer, 400, "Choose one of the listed tenants.")
        if not self.keys.keys_configured:
            request.session.update({"mode": "open"})
        request.session.update({"account_id": chosen.account_id, "region": chosen.region})
        return self.redirect(request, "/")


@dataclass(frozen=True, slots=True)
class ItemGroup:
    compliance_type: str
    items: list[StoredItem]


def _by_type(items: Sequence[StoredItem]) -> list[ItemGroup]:
    """Consecutive items of one type, in the order the service lists them."""
    groups: list[ItemGroup] = []
    for item in items:
        if not groups or groups[-1].compliance_type != item.compliance_type:
            groups.append(ItemGroup(item.compliance_type, []))
        groups[-1].items.append(item)
    return groups


def _item_position(resource_id: str, position: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if position is None else (resource_id, *position)


def _tenant_key(tenant: Tenant) -> tuple[str, str]:
    return tenant.account_id, tenant.region


def _query_string(query: Mapping[str, str]) -> str:
    kept = {k: v for k, v in query.items() if v}
    return "?" + urlencode(kept) if kept else ""


def _linker(root: str) -> Callable[..., str]:
    def url(path: str, **query: str) -> str:
        return root + path + _query_string(query)

    return url


def _node_linker(root: str) -> Callable[..., str]:
    def node_url(resource_id: str, **query: str) -> str:
        return root + "/resources/" + quote(resource_id, safe="") + _query_string(query)

    return node_url


async def _form(request: Request) -> dict[str, str]:
    # Only urlencoded forms are posted here; parsing them needs no multipart library.
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _same_token(request: Request, form: Mapping[str, str]) -> bool:
    expected = request.session.get("csrf")
    given = form.get("csrf", "")
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), given.encode())
