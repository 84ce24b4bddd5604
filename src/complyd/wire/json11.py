"""AWS JSON 1.1 framing: target parsing, body parsing, error bodies, request ids.

Owns what every request and response has in common. Must not know what an operation does.
"""

from __future__ import annotations

import os
import random
from typing import Any

import orjson

from complyd.errors import ComplianceError, SerializationException, UnknownOperationException
from complyd.wire.model import OPERATIONS, TARGET_PREFIX

CONTENT_TYPE = "application/x-amz-json-1.1"
ACCEPTED_CONTENT_TYPES = (CONTENT_TYPE, "application/json", "application/x-amz-json-1.0")


# Request ids need to be unique, not secret: a seeded PRNG instead of os.urandom per request.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)  # a forked worker must not repeat its parent's ids


def new_request_id() -> str:
    """A version-4 UUID, as AWS's request ids are (formatted here: uuid.UUID costs more)."""
    h = f"{_ids.getrandbits(128) & _RANDOM_BITS | _VERSION_4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# Version 4 (bits 76-79) and the RFC 4122 variant (bits 62-63) over 122 random bits.
_VERSION_4 = (4 << 76) | (2 << 62)
_RANDOM_BITS = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)


def served_operation(target: str | None) -> str | None:
    """`AmazonSSM.ListComplianceItems` -> `ListComplianceItems`; None for anything not served."""
    prefix, _, name = (target or "").partition(".")
    return name if prefix == TARGET_PREFIX and name in OPERATIONS else None


def served(target: str | None) -> bool:
    """Whether `target` names one of the operations complyd serves (else --upstream gets it)."""
    prefix, _, name = (target or "").partition(".")
    return prefix == TARGET_PREFIX and name in OPERATIONS


def operation_for(target: str | None) -> str:
    """`AmazonSSM.ListComplianceItems` -> `ListComplianceItems`, for the operations served."""
    name = served_operation(target)
    if name is None:
        shown = target if target else "(none)"
        raise UnknownOperationException(
            f"Operation {shown} is not supported. Send X-Amz-Target: {TARGET_PREFIX}.<Operation> "
            f"with one of: {', '.join(OPERATIONS)}."
        )
    return name


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object.")
    return body


def check_content_type(content_type: str | None) -> None:
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media and media not in ACCEPTED_CONTENT_TYPES:
        raise SerializationException(f"Unsupported Content-Type '{media}'; send {CONTENT_TYPE}.")


def error_body(error: ComplianceError) -> bytes:
    body: dict[str, Any] = {"__type": error.code}
    if error.message:
        body["message"] = error.message
    body.update(error.extra_members())
    return orjson.dumps(body)


def response_headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE}
