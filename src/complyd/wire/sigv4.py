"""SigV4 Authorization header parsing: who is calling and from which region.

Owns the header grammar and its errors (missing, incomplete). Must not look up keys or accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from complyd.errors import IncompleteSignatureException, MissingAuthenticationTokenException

ALGORITHM = "AWS4-HMAC-SHA256"
_REQUIRED = ("Credential", "SignedHeaders", "Signature")
_ACCESS_KEY = re.compile(r"[A-Za-z0-9]{1,128}")


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
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
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
