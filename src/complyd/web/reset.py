"""POST /_complyd/reset: empty the store between tests without restarting complyd.

Owns who may reset and the request's shape. An empty body (or `{}`) empties every tenant;
`{"AccountId": "123456789012", "Region": "us-east-1"}` empties that (account, region) only.
The store deletes the rows (storage/reset.py) in one write transaction, queued behind the puts
sent before it. Who may: in open mode, a request from a loopback address to a server that
listens on a loopback address; with keys, a request signed with a key whose credentials entry
has `role = "admin"`. Every refusal is HTTP 403 with an AWS error body. Must not know the
tables.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from complyd.config import ADMIN_ROLE, Settings, is_loopback
from complyd.errors import (
    AccessDeniedException,
    ComplianceError,
    InternalServerError,
    ValidationException,
)
from complyd.fleet import Fleet
from complyd.model import Tenant
from complyd.web.api import headers_of, read_body
from complyd.web.auth import Authenticator
from complyd.wire import json11
from complyd.wire.sigv4 import SignedRequest

log = logging.getLogger("complyd.reset")

PATH = "/_complyd/reset"
FORBIDDEN = 403
MEMBERS = ("AccountId", "Region")
_ACCOUNT_ID = re.compile(r"\d{12}")
# The credential scope's rule for regions (a DNS label), so every stored region can be named.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


def forbidden(error: ComplianceError) -> ComplianceError:
    error.status = FORBIDDEN
    return error


def from_loopback(request: Request) -> bool:
    """Whether the peer's address is a loopback one (IPv4-mapped IPv6 included)."""
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def tenant_to_reset(body: dict[str, Any]) -> Tenant | None:
    """The tenant a reset body names, or None for every tenant."""
    unknown = sorted(set(body) - set(MEMBERS))
    if unknown:
        raise ValidationException(
            f"Unknown member(s) {', '.join(unknown)}: a reset takes AccountId and Region "
            "(one tenant), or an empty body (every tenant)."
        )
    account, region = body.get("AccountId"), body.get("Region")
    if account is None and region is None:
        return None
    if account is None or region is None:
        raise ValidationException(
            "Give both AccountId and Region to reset one tenant, or neither to reset every tenant."
        )
    if not isinstance(account, str) or not _ACCOUNT_ID.fullmatch(account):
        raise ValidationException(f"AccountId must be a 12-digit string, not {account!r}.")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ValidationException(f"Region must be a region name like us-east-1, not {region!r}.")
    return Tenant(account, region)


class Reset:
    """The reset endpoint, reading and verifying requests as the API does."""

    def __init__(self, fleet: Fleet, settings: Settings, authenticator: Authenticator) -> None:
        self._fleet = fleet
        self._settings = settings
        self._authenticator = authenticator

    def _authorize(self, request: Request, headers: dict[str, str], raw: bytes) -> None:
        if not self._authenticator.keys_configured:
            if is_loopback(self._settings.host) and from_loopback(request):
                return
            raise forbidden(
                AccessDeniedException(
                    "In open mode the store may be reset only from a loopback address, on a "
                    "server listening on one. Elsewhere configure --credentials with a key "
                    'whose entry has role = "admin", and sign the reset with it.'
                )
            )
        signed = SignedRequest(
            method=request.method,
            raw_path=request.scope.get("raw_path", b"/").decode("latin-1"),
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=raw,
        )
        try:
            caller = self._authenticator.caller(signed)
        except ComplianceError as error:
            raise forbidden(error) from None
        # Asked of the authenticator, so a credentials file reloaded on SIGHUP counts.
        if self._authenticator.role_of(caller.access_key_id) != ADMIN_ROLE:
            raise forbidden(
                AccessDeniedException(
                    f"User: arn:aws:iam::{caller.tenant.account_id}:user/{caller.access_key_id} "
                    'is not authorized to reset the store: only keys with role = "admin" in the '
                    "credentials file may."
                )
            )

    async def endpoint(self, request: Request) -> Response:
        request_id = json11.new_request_id()
        response_headers = json11.response_headers(request_id)
        try:
            headers = headers_of(request.scope)
            raw = await read_body(request.receive, headers, self._settings.body_size_limit)
            self._authorize(request, headers, raw)
            tenant = tenant_to_reset(json11.parse_body(raw))
            await self._fleet.reset(tenant)
        except ComplianceError as error:
            return Response(
                json11.error_body(error), status_code=error.status, headers=response_headers
            )
        except Exception:
            log.exception("internal error handling reset %s", request_id)
            fault = InternalServerError(f"An internal error occurred. Request id: {request_id}")
            return Response(
                json11.error_body(fault), status_code=fault.status, headers=response_headers
            )
        shown = "every tenant" if tenant is None else f"{tenant.account_id} {tenant.region}"
        log.info("store reset: %s (request %s)", shown, request_id)
        return Response(b"{}", status_code=200, headers=response_headers)
