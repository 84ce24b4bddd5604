"""Who is looking at the dashboard: the signed session cookie, the tenant it holds, and the
per-session token that every posted form carries.

Owns the session's contents and their checks. With keys configured a session is made only by
signing in with a key pair (checked once through the authenticator); it then holds the key's
account (any account, for a key with the auditor role), a region and the access key id, never
the secret. In open mode it holds the picked (account, region). Tenants are offered largest
first. Must not render pages or read compliance data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from complyd.config import DEFAULT_REGION
from complyd.fleet import Fleet
from complyd.model import DEFAULT_ACCOUNT_ID, Tenant

SESSION_COOKIE = "complyd_ui"
SESSION_MAX_AGE_S = 12 * 60 * 60
REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,4}")
ACCOUNT = re.compile(r"\d{12}")


class KeyChecker(Protocol):
    """The part of the API's authenticator the dashboard needs."""

    @property
    def keys_configured(self) -> bool: ...

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None: ...

    def account_of(self, access_key_id: str) -> str | None: ...

    def role_of(self, access_key_id: str) -> str | None: ...


AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the tenant shown, the access key signed in with (keyed mode), and
    whether it may see every tenant (an auditor key, or open mode)."""

    tenant: Tenant
    access_key_id: str | None = None
    auditor: bool = False

    @property
    def sees_every_tenant(self) -> bool:
        return self.auditor or self.access_key_id is None


def parse_tenant(value: str) -> Tenant | None:
    """'123456789012/us-east-1' as a Tenant, or None."""
    account, _, region = value.partition("/")
    if ACCOUNT.fullmatch(account) and REGION.fullmatch(region):
        return Tenant(account, region)
    return None


class Sessions:
    """The session cookie over the fleet's key and one authenticator."""

    def __init__(self, fleet: Fleet, keys: KeyChecker) -> None:
        self.fleet = fleet
        self.keys = keys

    def middleware(self, path: str) -> Middleware:
        return Middleware(
            SessionMiddleware,
            secret_key=self._secret(),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE_S,
            path=path,
            same_site="lax",
        )

    def _secret(self) -> str:
        # Derived from the token key kept in the database, so replicas sharing a database
        # accept each other's sessions and no second secret is stored; the label keeps the
        # two uses of the key apart.
        token_key = self.fleet.token_key()
        return hmac.new(token_key, b"complyd dashboard session", hashlib.sha256).hexdigest()

    def viewer(self, request: Request) -> Viewer | None:
        """The session's tenant; None when keys are configured and nobody has signed in."""
        session = request.session
        tenant = parse_tenant(f"{session.get('account_id', '')}/{session.get('region', '')}")
        if self.keys.keys_configured:
            key = session.get("access_key_id")
            if session.get("mode") != "key" or tenant is None or not isinstance(key, str):
                return None
            # A key removed from the credentials file (or moved to another account, or no
            # longer an auditor) ends its sessions at once, not when the cookie expires.
            role = self.keys.role_of(key)
            if role == AUDITOR:
                return Viewer(tenant, key, auditor=True)
            if role is None or self.keys.account_of(key) != tenant.account_id:
                return None
            return Viewer(tenant, key)
        if session.get("mode") == "open" and tenant is not None:
            return Viewer(tenant)
        held = self.held()
        return Viewer(held[0] if held else Tenant(DEFAULT_ACCOUNT_ID, DEFAULT_REGION))

    def held(self) -> list[Tenant]:
        """Tenants holding data, largest first."""
        return self.fleet.tenants()

    def tenant_choices(self, viewer: Viewer) -> list[Tenant]:
        """What the picker offers: pairs holding data (of the key's account, unless it is an
        auditor's), largest first, and the current one."""
        held = self.held()
        if not viewer.sees_every_tenant:
            held = [t for t in held if t.account_id == viewer.tenant.account_id]
        if viewer.tenant in held:
            return held
        return [*held, viewer.tenant]

    def sign_in(self, request: Request, access_key_id: str, secret: str, region: str) -> str:
        """Start a keyed session; '' when it worked, else what to tell the person."""
        account = self.keys.check_secret(access_key_id, secret)
        if account is None:
            return "That access key id and secret access key do not match a key on this server."
        if region and not REGION.fullmatch(region):
            return f"'{region}' is not a region name such as us-east-1."
        auditor = self.keys.role_of(access_key_id) == AUDITOR
        if not region:
            # The largest tenant the key may see: of its account, or of all for an auditor.
            held = [t for t in self.held() if auditor or t.account_id == account]
            if held:
                account, region = held[0].account_id, held[0].region
            else:
                region = DEFAULT_REGION
        # A new session from scratch: nothing from before signing in carries over.
        request.session.clear()
        request.session.update(
            {"mode": "key", "access_key_id": access_key_id, "account_id": account, "region": region}
        )
        return ""

    def choose(self, request: Request, viewer: Viewer, value: str) -> bool:
        """Switch to the picked tenant if the picker offered it."""
        chosen = parse_tenant(value)
        if chosen is None or chosen not in self.tenant_choices(viewer):
            return False
        if not self.keys.keys_configured:
            request.session["mode"] = "open"
        request.session.update({"account_id": chosen.account_id, "region": chosen.region})
        return True


def form_token(request: Request) -> str:
    """The session's token for posted forms, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def has_form_token(request: Request, form: Mapping[str, str]) -> bool:
    expected = request.session.get("csrf")
    given = form.get("csrf", "")
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), given.encode())


async def read_form(request: Request) -> dict[str, str]:
    # Only urlencoded forms are posted here; parsing them needs no multipart library.
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
