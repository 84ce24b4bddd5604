"""SigV4: parsing the Authorization header and verifying signatures.

Owns the header grammar, the canonical request, the signing-key derivation, the clock-skew rule
and their AWS errors (missing, incomplete, invalid). Compares signatures in constant time and
hashes the body itself, so an altered body fails. Must not look up keys or accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from complyd.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
_REQUIRED = ("Credential", "SignedHeaders", "Signature")
_ACCESS_KEY = re.compile(r"[A-Za-z0-9]{1,128}")
# A region is a DNS label, as botocore requires of region names. The region is part of every
# stored key, so an unbounded one would exceed PostgreSQL's index entry size.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


@dataclass(frozen=True, slots=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str | None) -> Credential:
    if not header:
        raise MissingAuthenticationTokenException(
            "Request is missing Authentication Token: sign it with AWS Signature Version 4."
        )
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}'. Sign requests with {ALGORITHM}."
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            params[name.strip()] = value.strip()
    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
            + f" Authorization={header[:200]}"
        )
    scope = params["Credential"].split("/")
    if (
        len(scope) != 5
        or scope[4] != "aws4_request"
        or not all(scope)
        or not _REGION.fullmatch(scope[2])
    ):
        raise IncompleteSignatureException(
            "Credential should be scoped to a valid region, like "
            "'AKID/20190101/us-east-1/ssm/aws4_request', not "
            f"'{params['Credential'][:200]}'."
        )
    access_key_id, date, region, service, _ = scope
    if not _ACCESS_KEY.fullmatch(access_key_id):
        raise IncompleteSignatureException("The access key id in the Credential is malformed.")
    return Credential(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(params["SignedHeaders"].split(";")),
        signature=params["Signature"],
    )


# -- verification -------------------------------------------------------------------------

MAX_CLOCK_SKEW = timedelta(minutes=15)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What SigV4 covers: the request as it arrived (raw path and query, headers, body)."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes


def request_time(headers: Mapping[str, str]) -> datetime:
    """The signing time, from X-Amz-Date (or, failing that, Date)."""
    amz = headers.get("x-amz-date")
    if amz:
        try:
            # Fixed-width YYYYMMDDTHHMMSSZ; slicing is many times cheaper than strptime.
            if len(amz) != 16 or amz[8] != "T" or amz[15] != "Z":
                raise ValueError(amz)
            return datetime(
                int(amz[0:4]), int(amz[4:6]), int(amz[6:8]),
                int(amz[9:11]), int(amz[11:13]), int(amz[13:15]), tzinfo=UTC,
            )  # fmt: skip
        except ValueError:
            raise IncompleteSignatureException(
                f"X-Amz-Date '{amz[:40]}' is not in the form YYYYMMDDTHHMMSSZ."
            ) from None
    date = headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    raise IncompleteSignatureException(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def check_freshness(signed_at: datetime, now: datetime) -> None:
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        edge = now - MAX_CLOCK_SKEW if signed_at < now else now + MAX_CLOCK_SKEW
        relation = "earlier" if signed_at < now else "later"
        sign = "-" if signed_at < now else "+"
        raise InvalidSignatureException(
            f"Signature expired: {signed_at.strftime(_AMZ_DATE)} is now {relation} than "
            f"{edge.strftime(_AMZ_DATE)} ({now.strftime(_AMZ_DATE)} {sign} 15 min.)"
        )


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_request(credential: Credential, request: SignedRequest) -> str:
    headers = []
    for name in credential.signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise InvalidSignatureException(f"Signed header '{name}' is missing from the request.")
        headers.append(f"{name}:{' '.join(value.split())}\n")
    path = request.raw_path or "/"
    return "\n".join(
        [
            request.method.upper(),
            path if path == "/" else quote(path, safe="/~"),
            _canonical_query(request.raw_query) if request.raw_query else "",
            "".join(headers),
            ";".join(credential.signed_headers),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


# Signing keys change once a day per (secret, region, service): derive each once, not per
# request (four HMACs). Bounded, so keys of many clients cannot grow it without limit.
_SIGNING_KEYS: dict[tuple[str, str, str, str], bytes] = {}
_MAX_SIGNING_KEYS = 4096


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    cache_key = (secret_access_key, date, region, service)
    key = _SIGNING_KEYS.get(cache_key)
    if key is None:
        key = _hmac(("AWS4" + secret_access_key).encode("utf-8"), date)
        for part in (region, service, "aws4_request"):
            key = _hmac(key, part)
        if len(_SIGNING_KEYS) >= _MAX_SIGNING_KEYS:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[cache_key] = key
    return key


def expected_signature(
    credential: Credential, secret_access_key: str, request: SignedRequest, amz_date: str
) -> str:
    scope = "/".join([credential.date, credential.region, credential.service, "aws4_request"])
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            amz_date,
            scope,
            hashlib.sha256(canonical_request(credential, request).encode("utf-8")).hexdigest(),
        ]
    )
    key = signing_key(secret_access_key, credential.date, credential.region, credential.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    credential: Credential,
    secret_access_key: str,
    request: SignedRequest,
    now: datetime,
    service: str = "ssm",
) -> None:
    """Raise unless `request` carries a valid, fresh SigV4 signature made with the secret."""
    if credential.service != service:
        raise InvalidSignatureException(
            f"Credential should be scoped to correct service: '{service}'."
        )
    if "host" not in credential.signed_headers:
        raise InvalidSignatureException("The 'Host' header must be signed.")
    signed_at = request_time(request.headers)
    # X-Amz-Date, when present, is already the ISO-8601 basic form the signature covers.
    amz_date = request.headers.get("x-amz-date") or signed_at.strftime(_AMZ_DATE)
    if credential.date != amz_date[:8]:
        raise InvalidSignatureException(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{credential.date}' != '{amz_date[:8]}'."
        )
    check_freshness(signed_at, now)
    expected = expected_signature(credential, secret_access_key, request, amz_date)
    if not hmac.compare_digest(
        expected.encode("ascii"), credential.signature.encode("ascii", "replace")
    ):
        raise InvalidSignatureException(_SIGNATURE_MISMATCH)
