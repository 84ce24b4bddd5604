"""Who is calling: the tenant a request belongs to, and what its key may do.

Open mode (no keys configured) verifies nothing: the account is the access key id when it is
12 digits (so local tools can pick an account), else 000000000000. With keys configured every
request must carry a valid SigV4 signature made with a known key, whose account it then uses.
Either way the region is the credential scope's. Must not log or echo secrets.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from complyd.config import AccessKey
from complyd.errors import UnrecognizedClientException
from complyd.model import DEFAULT_ACCOUNT_ID, Tenant
from complyd.wire.sigv4 import SignedRequest, parse_authorization, verify


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its tenant, and whether its key may only read."""

    tenant: Tenant
    access_key_id: str
    read_only: bool = False


class Authenticator(Protocol):
    keys_configured: bool

    def caller(self, request: SignedRequest) -> Caller: ...

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None:
        """The account of a key pair, or None when it is not a configured pair."""

    def account_of(self, access_key_id: str) -> str | None:
        """The account of a configured access key id, or None."""

    def role_of(self, access_key_id: str) -> str | None:
        """The role of a configured access key id ("" for none), or None when not configured."""


_CREDENTIAL_KEY = re.compile(r"Credential=([A-Za-z0-9]{1,128})/")


def access_key_id_of(authorization: str | None) -> str | None:
    """The access key id an Authorization header names, for logs of refused requests."""
    found = _CREDENTIAL_KEY.search(authorization or "")
    return found.group(1) if found else None


def open_mode_account(access_key_id: str) -> str:
    key = access_key_id
    return key if len(key) == 12 and key.isdigit() else DEFAULT_ACCOUNT_ID


class OpenAuthenticator:
    """No keys configured: every well-formed SigV4 header is accepted unverified."""

    keys_configured = False

    def caller(self, request: SignedRequest) -> Caller:
        credential = parse_authorization(request.headers.get("authorization"))
        tenant = Tenant(open_mode_account(credential.access_key_id), credential.region)
        return Caller(tenant, credential.access_key_id)

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None:
        return None

    def account_of(self, access_key_id: str) -> str | None:
        return None

    def role_of(self, access_key_id: str) -> str | None:
        return None


class KeyAuthenticator:
    """Configured keys: SigV4 verified against the key's secret, the key's account used."""

    keys_configured = True

    def __init__(self, keys: Mapping[str, AccessKey]) -> None:
        self._keys = dict(keys)

    def replace(self, keys: Mapping[str, AccessKey]) -> None:
        """Use `keys` from the next request on. One reference swap: a request already past
        its key lookup finishes with the key it found."""
        self._keys = dict(keys)

    @property
    def access_key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def caller(self, request: SignedRequest) -> Caller:
        credential = parse_authorization(request.headers.get("authorization"))
        key = self._keys.get(credential.access_key_id)
        if key is None:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        verify(credential, key.secret_access_key, request, datetime.now(UTC))
        tenant = Tenant(key.account_id, credential.region)
        return Caller(tenant, key.access_key_id, key.read_only)

    def check_secret(self, access_key_id: str, secret_access_key: str) -> str | None:
        key = self._keys.get(access_key_id)
        expected = key.secret_access_key if key else "\x00" * max(16, len(secret_access_key))
        same = hmac.compare_digest(expected.encode(), secret_access_key.encode())
        return key.account_id if key is not None and same else None

    def account_of(self, access_key_id: str) -> str | None:
        key = self._keys.get(access_key_id)
        return key.account_id if key is not None else None

    def role_of(self, access_key_id: str) -> str | None:
        key = self._keys.get(access_key_id)
        return key.role if key is not None else None


def authenticator_for(keys: Mapping[str, AccessKey]) -> Authenticator:
    return KeyAuthenticator(keys) if keys else OpenAuthenticator()
