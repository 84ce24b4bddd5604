"""SigV4 verification agrees with botocore's signer; token buckets refill at their rate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from complyd.errors import IncompleteSignatureException, InvalidSignatureException
from complyd.web.throttle import RateLimiter
from complyd.wire.sigv4 import SignedRequest, parse_authorization, verify

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)


def botocore_signed(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    body: bytes,
    at: dt.datetime = NOW,
    service: str = "ssm",
) -> SignedRequest:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at.replace(tzinfo=None))
    request = AWSRequest(
        "POST",
        url,
        data=body,
        headers={
            "X-Amz-Target": "AmazonSSM.ListComplianceItems",
            "Content-Type": "application/x-amz-json-1.1",
            "X-Custom": "  spaced    value ",
        },
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", SECRET), service, "eu-central-1").add_auth(request)
    prepared = request.prepare()
    path, _, query = prepared.url.split("://", 1)[1].partition("/")[2].partition("?")
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers["host"] = "example.com:8443"
    return SignedRequest("POST", "/" + path, query, headers, body)


def check(request: SignedRequest, secret: str = SECRET, now: dt.datetime = NOW) -> None:
    verify(parse_authorization(request.headers["authorization"]), secret, request, now)


def test_botocore_signatures_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    check(botocore_signed(monkeypatch, "https://example.com:8443/", b'{"MaxResults": 5}'))
    check(botocore_signed(monkeypatch, "https://example.com:8443/a%20b/c?z=1&a=x%2Fy&a=b", b""))


def test_any_change_breaks_the_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    good = botocore_signed(monkeypatch, "https://example.com:8443/?q=1", b'{"a": 1}')
    changes: list[Callable[[SignedRequest], SignedRequest]] = [
        lambda r: SignedRequest(r.method, r.raw_path, r.raw_query, r.headers, b'{"a": 2}'),
        lambda r: SignedRequest(r.method, r.raw_path, "q=2", r.headers, r.body),
        lambda r: SignedRequest(r.method, "/other", r.raw_query, r.headers, r.body),
        lambda r: SignedRequest("PUT", r.raw_path, r.raw_query, r.headers, r.body),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.raw_query, {**r.headers, "x-amz-target": "AmazonSSM.X"}, r.body
        ),
    ]
    for change in changes:
        with pytest.raises(InvalidSignatureException, match="does not match"):
            check(change(good))
    with pytest.raises(InvalidSignatureException, match="does not match"):
        check(good, secret="another-secret")


def test_clock_skew_and_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    request = botocore_signed(monkeypatch, "https://example.com:8443/", b"{}")
    check(request, now=NOW + dt.timedelta(minutes=14))
    with pytest.raises(
        InvalidSignatureException,
        match="Signature expired: 20261123T120000Z is now earlier than 20261123T120100Z",
    ):
        check(request, now=NOW + dt.timedelta(minutes=16))
    with pytest.raises(InvalidSignatureException, match="is now later than"):
        check(request, now=NOW - dt.timedelta(minutes=16))
    other_service = botocore_signed(monkeypatch, "https://example.com:8443/", b"{}", service="s3")
    with pytest.raises(InvalidSignatureException, match="scoped to correct service"):
        check(other_service)
    no_date = SignedRequest(
        request.method,
        request.raw_path,
        request.raw_query,
        {k: v for k, v in request.headers.items() if k != "x-amz-date"},
        request.body,
    )
    with pytest.raises(IncompleteSignatureException, match="X-Amz-Date"):
        check(no_date)


def test_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.allow("k") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other")  # buckets are per key
    now[0] = 0.5  # one token back at 2/s
    assert limiter.allow("k") and not limiter.allow("k")
    now[0] = 100.0  # refills up to the burst, not beyond
    assert [limiter.allow("k") for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    "value", ["2026-11-23T12:00:00Z", "20261123T120000", "20261323T120000Z", "2026112xT120000Z"]
)
def test_malformed_amz_dates_are_incomplete_signatures(value: str) -> None:
    from complyd.wire.sigv4 import request_time

    with pytest.raises(IncompleteSignatureException, match="X-Amz-Date"):
        request_time({"x-amz-date": value})


def test_amz_date_parses_to_utc() -> None:
    from complyd.wire.sigv4 import request_time

    assert request_time({"x-amz-date": "20261123T120000Z"}) == NOW
