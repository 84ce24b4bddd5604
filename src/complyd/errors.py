"""The AWS error tree: one class per error name, each with its HTTP status.

Owns error names, statuses and extra body members. Rendering to bytes happens in `wire.json11`;
this module must not know about HTTP frameworks or JSON.
"""

from __future__ import annotations


class ComplianceError(Exception):
    """An error answered to the client as `{"__type": code, "message": ...}`."""

    code: str = "InternalServerError"
    status: int = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def extra_members(self) -> dict[str, str]:
        return {}


class ValidationException(ComplianceError):
    code = "ValidationException"


class SerializationException(ComplianceError):
    code = "SerializationException"


class UnknownOperationException(ComplianceError):
    code = "UnknownOperationException"


class MissingAuthenticationTokenException(ComplianceError):
    code = "MissingAuthenticationTokenException"


class IncompleteSignatureException(ComplianceError):
    code = "IncompleteSignatureException"


class InvalidSignatureException(ComplianceError):
    code = "InvalidSignatureException"


class UnrecognizedClientException(ComplianceError):
    code = "UnrecognizedClientException"


class AccessDeniedException(ComplianceError):
    code = "AccessDeniedException"


class ThrottlingException(ComplianceError):
    code = "ThrottlingException"


class RequestEntityTooLargeException(ComplianceError):
    code = "RequestEntityTooLargeException"
    status = 413


class InvalidResourceType(ComplianceError):
    code = "InvalidResourceType"


class InvalidResourceId(ComplianceError):
    code = "InvalidResourceId"


class InvalidFilter(ComplianceError):
    code = "InvalidFilter"


class InvalidNextToken(ComplianceError):
    code = "InvalidNextToken"


class ComplianceTypeCountLimitExceededException(ComplianceError):
    code = "ComplianceTypeCountLimitExceededException"


class TotalSizeLimitExceededException(ComplianceError):
    code = "TotalSizeLimitExceededException"


class _ItemTypeError(ComplianceError):
    """An error that AWS's model gives a `TypeName` member: the item type it concerns."""

    def __init__(self, message: str = "", type_name: str = "AWS:ComplianceItem") -> None:
        super().__init__(message)
        self.type_name = type_name

    def extra_members(self) -> dict[str, str]:
        return {"TypeName": self.type_name}


class ItemSizeLimitExceededException(_ItemTypeError):
    code = "ItemSizeLimitExceededException"


class InvalidItemContentException(_ItemTypeError):
    code = "InvalidItemContentException"


class UpstreamUnavailableException(ComplianceError):
    """The endpoint given with --upstream could not be reached or broke off its answer."""

    code = "UpstreamUnavailableException"
    status = 502


class UpstreamTimeoutException(ComplianceError):
    """The endpoint given with --upstream did not answer within --upstream-timeout."""

    code = "UpstreamTimeoutException"
    status = 504


class InternalServerError(ComplianceError):
    code = "InternalServerError"
    status = 500
