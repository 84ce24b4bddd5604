"""Pagination tokens are opaque, never repeat, and reject any other context or alteration."""

from __future__ import annotations

import pytest

from complyd.errors import InvalidNextToken
from complyd.model import Tenant
from complyd.wire.tokens import TokenCodec

KEY = b"k" * 32
T1, T2 = Tenant("111111111111", "us-east-1"), Tenant("222222222222", "us-east-1")
OP = "ListComplianceItems"


def test_round_trip_and_uniqueness() -> None:
    codec = TokenCodec(KEY)
    a = codec.mint(OP, T1, b"f", ("i-1", "Patch", "ax"))
    b = codec.mint(OP, T1, b"f", ("i-1", "Patch", "ax"))
    assert a != b
    assert codec.open(a, OP, T1, b"f") == ("i-1", "Patch", "ax")
    assert TokenCodec(KEY).open(b, OP, T1, b"f") == ("i-1", "Patch", "ax")


@pytest.mark.parametrize(
    "op,tenant,fingerprint",
    [
        ("ListResourceComplianceSummaries", T1, b"f"),
        (OP, T2, b"f"),
        (OP, Tenant("111111111111", "eu-west-1"), b"f"),
        (OP, T1, b"g"),
    ],
)
def test_other_context_is_rejected(op: str, tenant: Tenant, fingerprint: bytes) -> None:
    codec = TokenCodec(KEY)
    token = codec.mint(OP, T1, b"f", ("i-1",))
    with pytest.raises(InvalidNextToken):
        codec.open(token, op, tenant, fingerprint)


def test_alterations_and_garbage_are_rejected() -> None:
    codec = TokenCodec(KEY)
    token = codec.mint(OP, T1, b"f", ("i-1",))
    flipped = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    for bad in (flipped, token + "x", "", "abc", "a.b.c", "!!!.???", token.split(".")[0]):
        with pytest.raises(InvalidNextToken):
            codec.open(bad, OP, T1, b"f")
    with pytest.raises(InvalidNextToken):
        TokenCodec(b"z" * 32).open(token, OP, T1, b"f")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenCodec(b"short")
