"""Who is calling: the tenant a request belongs to.

In open mode (no keys configured) nothing is verified: the account is the access key id when
it is 12 digits (so local tools can pick an account), else 000000000000; the region is the
SigV4 credential scope's. Must not log secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from complyd.model import DEFAULT_ACCOUNT_ID, Tenant
from complyd.wire.sigv4 import parse_authorization


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its tenant, and whether its key may only read."""

    tenant: Tenant
    access_key_id: str
    read_only: bool = False


def open_mode_account(access_key_id: str) -> str:
    key = access_key_id
    return key if len(key) == 12 and key.isdigit() else DEFAULT_ACCOUNT_ID


class OpenAuthenticator:
    """No keys configured: every well-formed SigV4 header is accepted unverified."""

    keys_configured = False

    def caller(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        credential = parse_authorization(headers.get("authorization"))
        tenant = Tenant(open_mode_account(credential.access_key_id), credential.region)
        return Caller(tenant, credential.access_key_id)

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None:
        """The account a key pair belongs to, or None; open mode has no keys to check."""
        return None
