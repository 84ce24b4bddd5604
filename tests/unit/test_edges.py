"""SigV4 header parsing, target parsing and database URLs."""

from __future__ import annotations

import pytest

from complyd.config import database_url
from complyd.errors import (
    IncompleteSignatureException,
    MissingAuthenticationTokenException,
    SerializationException,
    UnknownOperationException,
)
from complyd.wire.json11 import check_content_type, operation_for, parse_body
from complyd.wire.sigv4 import parse_authorization

GOOD = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/ssm/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abcdef"
)


def test_authorization_header_parts() -> None:
    c = parse_authorization(GOOD)
    assert (c.access_key_id, c.region, c.service) == ("AKIDEXAMPLE", "eu-west-1", "ssm")
    assert c.signed_headers == ("host", "x-amz-date") and c.signature == "abcdef"


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/ssm/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK ID/20260101/us-east-1/ssm/aws4_request, SignedHeaders=h, Signature=a",
    ],
)
def test_malformed_headers_are_incomplete(header: str) -> None:
    with pytest.raises(IncompleteSignatureException):
        parse_authorization(header)


def test_missing_header() -> None:
    for header in (None, ""):
        with pytest.raises(MissingAuthenticationTokenException):
            parse_authorization(header)


def test_targets() -> None:
    assert operation_for("AmazonSSM.ListComplianceItems") == "ListComplianceItems"
    for bad in (None, "", "AmazonSSM.GetParameter", "Other.ListComplianceItems", "AmazonSSM"):
        with pytest.raises(UnknownOperationException):
            operation_for(bad)


def test_bodies_and_content_types() -> None:
    assert parse_body(b"") == {} and parse_body(b"  ") == {}
    assert parse_body(b'{"a": 1}') == {"a": 1}
    for bad in (b"{", b"[]", b"\xff\xfe", b"null"):
        with pytest.raises(SerializationException):
            parse_body(bad)
    check_content_type("application/x-amz-json-1.1; charset=utf-8")
    check_content_type("application/json")
    with pytest.raises(SerializationException):
        check_content_type("text/xml")


def test_database_urls(tmp_path: object) -> None:
    assert database_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert database_url("sqlite:///rel.db") == "sqlite:///rel.db"
    assert database_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert database_url(None).endswith("complyd/complyd.db")
