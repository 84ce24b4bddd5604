"""Bad input on the wire: requests built from botocore's model, then corrupted, against a real
server on each store.

Every corrupted request must be answered with a 4xx AWS error body naming an expected type and
carrying x-amzn-RequestId (never a 500, never a hang: sockets time out), and no corrupted put may
change what the tenant holds (the whole tenant is re-read after each one). All requests share
one keep-alive connection.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.harness import Server, make_client, new_instance_id, new_tenant
from tests.api.reference import at, entry, put

from .conftest import start_server
from .model_requests import (
    BYTE_CORRUPTIONS,
    HEADER_CORRUPTIONS,
    OPERATIONS,
    TREE_CORRUPTIONS,
    Corrupted,
    Domain,
    valid_body,
)
from .rawhttp import KeepAlive, assert_aws_error, authorization, snapshot

FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
TYPES = ("Association", "Patch", "Custom:fuzz")
SEED_TIME = at(0)
OPERATION = st.sampled_from(OPERATIONS)
# Half the corrupted requests are puts: the only calls that could change stored data.
CORRUPTED_OPERATION = st.sampled_from(("PutComplianceItems",) * 2 + OPERATIONS[1:])


@dataclass
class Fuzz:
    server: Server
    conn: KeepAlive  # the seeded tenant, which corrupted requests must never change
    scratch: KeepAlive  # another tenant, for valid requests that do change data
    domain: Domain
    before: Any

    def refused(self, operation: str, bad: Corrupted) -> None:
        event(f"{operation}: {bad.kind}")
        answer = self.conn.send(f"AmazonSSM.{operation}", bad.body, bad.headers)
        assert_aws_error(answer, bad.expected)
        if operation == "PutComplianceItems":
            assert snapshot(self.conn) == self.before, bad.kind


@pytest.fixture(scope="module")
def fuzz(
    tmp_path_factory: pytest.TempPathFactory, module_database: Callable[[], str | None]
) -> Iterator[Fuzz]:
    srv = start_server(tmp_path_factory.mktemp("fuzz"), module_database())
    tenant = new_tenant()
    ssm = make_client(srv, tenant)
    resource_ids = tuple(new_instance_id() for _ in range(3))
    for n, rid in enumerate(resource_ids):
        for ctype in TYPES:
            items = [entry(f"{ctype}-{k}", "HIGH", "NON_COMPLIANT") for k in range(n + 1)]
            put(ssm, rid, ctype, items, when=SEED_TIME, execution_id="seed")
    first_ms = int(at(1).timestamp() * 1000)
    domain = Domain(resource_ids, TYPES, first_ms, first_ms + 10**9)
    conn = KeepAlive(srv.port, tenant.account, tenant.region)
    scratch = KeepAlive(srv.port, new_tenant().account)
    state = Fuzz(srv, conn, scratch, domain, snapshot(conn))
    assert len(state.before[0]) == 18  # the seed is there to be protected
    yield state
    # Nothing, corrupted or not, reached the seeded tenant, and the server is still healthy.
    assert snapshot(conn) == state.before
    assert srv.proc is not None and srv.proc.poll() is None
    log = srv.log_dir / f"server-{srv.starts}.stderr"
    assert "internal error" not in log.read_text(errors="replace")
    conn.close()
    scratch.close()
    srv.stop()


@settings(FUZZ_SETTINGS, max_examples=80)
@given(data=st.data())
def test_valid_bodies_from_the_model_are_accepted(fuzz: Fuzz, data: st.DataObject) -> None:
    """The generator's uncorrupted requests are valid, so each corruption below is the only
    thing wrong with the request it corrupts."""
    operation = data.draw(OPERATION, label="operation")
    body = data.draw(valid_body(operation, fuzz.domain), label="body")
    answer = fuzz.scratch.send(f"AmazonSSM.{operation}", _json(body))
    assert answer.status == 200, answer.describe()
    assert answer.headers.get("x-amzn-requestid")


@settings(FUZZ_SETTINGS, max_examples=600)
@given(data=st.data())
def test_corrupted_members_are_refused(fuzz: Fuzz, data: st.DataObject) -> None:
    """Wrong JSON types, missing members, huge strings, deep nesting, huge numbers, NaN-ish
    text and broken model constraints, at any member of the request."""
    operation = data.draw(CORRUPTED_OPERATION, label="operation")
    body = data.draw(valid_body(operation, fuzz.domain), label="body")
    corrupt = data.draw(st.sampled_from(TREE_CORRUPTIONS), label="corruption")
    fuzz.refused(operation, corrupt(data.draw, operation, body))


@settings(FUZZ_SETTINGS, max_examples=150)
@given(data=st.data())
def test_corrupted_bytes_are_refused(fuzz: Fuzz, data: st.DataObject) -> None:
    """Invalid UTF-8 anywhere in the body, and bodies cut short."""
    operation = data.draw(CORRUPTED_OPERATION, label="operation")
    body = data.draw(valid_body(operation, fuzz.domain), label="body")
    corrupt = data.draw(st.sampled_from(BYTE_CORRUPTIONS), label="corruption")
    fuzz.refused(operation, corrupt(data.draw, operation, body))


@settings(FUZZ_SETTINGS, max_examples=200)
@given(data=st.data())
def test_corrupted_headers_are_refused(fuzz: Fuzz, data: st.DataObject) -> None:
    """Wrong content types, unknown targets and bad or garbage Authorization headers, on
    otherwise valid requests."""
    operation = data.draw(CORRUPTED_OPERATION, label="operation")
    body = data.draw(valid_body(operation, fuzz.domain), label="body")
    corrupt = data.draw(st.sampled_from(HEADER_CORRUPTIONS), label="corruption")
    fuzz.refused(operation, corrupt(data.draw, operation, body))


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


# --- below the JSON layer: what is not valid HTTP, and clients that hang up ----------------


def _raw_exchange(port: int, request: bytes, *, half_close: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
            if b"\r\n\r\n" in received and not half_close:
                return received


def _head(fuzz: Fuzz, target: str, content_length: int, auth: str | None = None) -> bytes:
    auth = auth or authorization(fuzz.conn.access_key, fuzz.conn.region)
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{fuzz.server.port}\r\n"
        f"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\n"
        f"X-Amz-Date: 20260101T000000Z\r\nAuthorization: {auth}\r\n"
        f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


def test_control_characters_in_headers_are_refused_by_the_http_layer(fuzz: Fuzz) -> None:
    """A header value with control characters is not HTTP: the HTTP layer answers 400 before
    complyd sees the request, and the connection's data goes nowhere."""
    body = _json(
        {
            "ResourceId": fuzz.domain.resource_ids[0],
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": fuzz.domain.last_ms / 1000},
            "Items": [],
        }
    )
    for bad in ("\x01", "\x7f", "\x00", "\x1b[31m"):
        auth = authorization(fuzz.conn.access_key, fuzz.conn.region) + bad
        head = _head(fuzz, "AmazonSSM.PutComplianceItems", len(body), auth)
        answer = _raw_exchange(fuzz.server.port, head + body, half_close=False)
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert snapshot(fuzz.conn) == fuzz.before


def test_a_client_hanging_up_mid_body_changes_nothing(fuzz: Fuzz) -> None:
    """Fewer bytes than Content-Length, then the client closes: no hang, no internal error,
    nothing stored, and the server keeps serving."""
    body = _json(
        {
            "ResourceId": fuzz.domain.resource_ids[0],
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": fuzz.domain.last_ms / 1000},
            "Items": [],
        }
    )
    log = fuzz.server.log_dir / f"server-{fuzz.server.starts}.stderr"
    for cut in (0, 1, len(body) // 2, len(body) - 1):
        head = _head(fuzz, "AmazonSSM.PutComplianceItems", len(body))
        answer = _raw_exchange(fuzz.server.port, head + body[:cut], half_close=True)
        assert b" 500 " not in answer.split(b"\r\n", 1)[0], answer[:200]
    time.sleep(0.2)  # let the server finish with the closed connections before reading its log
    assert "internal error" not in log.read_text(errors="replace")
    assert snapshot(fuzz.conn) == fuzz.before


# --- what the fuzzing found, pinned ---------------------------------------------------------


def test_item_ids_and_regions_too_long_for_an_index_are_refused(fuzz: Fuzz) -> None:
    """Found on PostgreSQL, whose index entries hold about 2.7 kB: an item Id or a credential
    scope region of a few thousand characters failed in the store (a 500)."""
    put = {
        "ResourceId": fuzz.domain.resource_ids[0],
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Patch",
        "ExecutionSummary": {"ExecutionTime": fuzz.domain.last_ms / 1000},
        "Items": [{"Id": "k" * 1025, "Severity": "LOW", "Status": "COMPLIANT"}],
    }
    answer = fuzz.conn.send("AmazonSSM.PutComplianceItems", _json(put))
    assert_aws_error(answer, {"ValidationException"})
    assert "items.1.member.id" in answer.body["message"]
    for region in ("r" * 64, "ab" * 3000, "-us-east-1"):
        auth = authorization(fuzz.conn.access_key, region)
        answer = fuzz.conn.send("AmazonSSM.PutComplianceItems", _json(put), {"Authorization": auth})
        assert_aws_error(answer, {"IncompleteSignatureException"})
    assert snapshot(fuzz.conn) == fuzz.before
    # The bounds themselves are accepted (on another tenant, in the longest region allowed).
    scratch = KeepAlive(fuzz.server.port, new_tenant().account, "r" * 63)
    put["Items"] = [{"Id": "\u00e9" * 512, "Severity": "LOW", "Status": "COMPLIANT"}]
    assert scratch.send("AmazonSSM.PutComplianceItems", _json(put)).status == 200
    assert [i["Id"] for i in scratch.call("ListComplianceItems", {})["ComplianceItems"]] == [
        "\u00e9" * 512
    ]
    scratch.close()
