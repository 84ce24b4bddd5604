"""Who is calling: the tenant a request belongs to.

In open mode (no keys configured) nothing is verified: the account is the access key id when
it is 12 digits (so local tools can pick an account), else 000000000000; the region is the
SigV4 credential scope's. Must not log secrets.
"""

from __future__ import annotations

from collections.abc import Mapping

from complyd.model import DEFAULT_ACCOUNT_ID, Tenant
from complyd.wire.sigv4 import parse_authorization


def open_mode_tenant(headers: Mapping[str, str]) -> Tenant:
    credential = parse_authorization(headers.get("authorization"))
    key = credential.access_key_id
    account = key if len(key) == 12 and key.isdigit() else DEFAULT_ACCOUNT_ID
    return Tenant(account_id=account, region=credential.region)
