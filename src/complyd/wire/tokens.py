"""Opaque, tamper-evident keyset pagination tokens.

A token carries the last key of a page and a nonce (a random prefix per codec and a counter,
so no token repeats); its MAC also
covers the operation, the tenant and the request's filters, so a token presented anywhere else
is rejected. The signing key comes from the store, so tokens survive restarts and work on every
replica. Must not know how keys are ordered or stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import secrets

import orjson

from complyd.errors import InvalidNextToken
from complyd.model import Tenant

_VERSION = 1
_MAC_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("token key must be at least 32 bytes")
        self._key = key
        # Nonces only need to differ (the MAC makes tokens tamper-evident): a random prefix per
        # codec and a counter, instead of the OS's randomness on every page.
        self._nonce_prefix = secrets.token_hex(6)
        self._count = itertools.count()

    def _nonce(self) -> str:
        return f"{self._nonce_prefix}{next(self._count):x}"

    def _mac(self, payload: bytes, operation: str, tenant: Tenant, fingerprint: bytes) -> bytes:
        context = orjson.dumps([operation, tenant.account_id, tenant.region])
        msg = b"\x00".join([payload, context, hashlib.sha256(fingerprint).digest()])
        return hmac.new(self._key, msg, hashlib.sha256).digest()[:_MAC_BYTES]

    def mint(
        self, operation: str, tenant: Tenant, fingerprint: bytes, last_key: tuple[str, ...]
    ) -> str:
        payload = orjson.dumps([_VERSION, list(last_key), self._nonce()])
        mac = self._mac(payload, operation, tenant, fingerprint)
        return _b64(payload) + "." + _b64(mac)

    def open(
        self, token: str, operation: str, tenant: Tenant, fingerprint: bytes
    ) -> tuple[str, ...]:
        invalid = InvalidNextToken(
            "The specified token is not valid: it was altered, has expired, or was issued for "
            "another operation, account, region or set of filters."
        )
        try:
            payload_text, mac_text = token.split(".")
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise invalid from None
        expected = self._mac(payload, operation, tenant, fingerprint)
        if not hmac.compare_digest(mac, expected):
            raise invalid
        try:
            version, last_key, _nonce = orjson.loads(payload)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            raise invalid from None
        if version != _VERSION or not all(isinstance(k, str) for k in last_key):
            raise invalid
        return tuple(last_key)
