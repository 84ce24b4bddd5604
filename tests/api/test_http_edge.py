"""The edge of the wire: what a browser, an oversized request head and an operator's log see."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from .conftest import ServerFactory
from .harness import Server, Tenant, make_client, new_instance_id, raw_request
from .reference import entry, put

# The HTTP edge is uvicorn's and complyd's protocol layer, which only a process has.
pytestmark = pytest.mark.process

CLIENT_TIMEOUT_S = 10.0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_browser_at_the_endpoint_is_sent_to_the_dashboard(server: Server) -> None:
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(server.url + "/", timeout=5)
    assert info.value.code == 302
    assert info.value.headers["Location"] == "/ui/"
    with urllib.request.urlopen(server.url + "/", timeout=5) as followed:
        assert followed.status == 200 and followed.url.endswith("/ui/")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_root_stay_refused(server: Server, method: str) -> None:
    request = urllib.request.Request(server.url + "/", method=method)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 405


def exchange(server: Server, raw: bytes) -> bytes:
    """Send raw bytes and read until the server closes: a hang fails by the timeout."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT_S) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole head is sent
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    assert time.monotonic() - start < CLIENT_TIMEOUT_S
    return b"".join(chunks)


def parsed(response: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, json.loads(body) if body else None


def request_with(headers: list[tuple[str, str]], target: str = "/healthz") -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_header_over_the_size_cap_gets_an_aws_shaped_431(server: Server) -> None:
    status, headers, body = parsed(exchange(server, request_with([("X-Big", "a" * 100_000)])))
    assert status == 431
    assert headers["content-type"].startswith("application/x-amz-json-1.1")
    assert headers["x-amzn-requestid"]
    assert body["__type"] == "RequestHeaderFieldsTooLarge"
    assert "65536 bytes" in body["message"] and "--max-header-size" in body["message"]


def test_too_many_headers_get_an_aws_shaped_431(server: Server) -> None:
    many = [(f"X-H{i}", "v") for i in range(2000)]
    status, _, body = parsed(exchange(server, request_with(many)))
    assert status == 431
    assert body["__type"] == "RequestHeaderFieldsTooLarge"
    assert "100 header fields" in body["message"]


def test_a_head_that_never_ends_is_cut_off_at_the_cap(server: Server) -> None:
    """Megabytes of one header value, never terminated: refused once past the cap."""
    endless = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: " + b"a" * 4_000_000
    status, _, body = parsed(exchange(server, endless))
    assert status == 431 and body["__type"] == "RequestHeaderFieldsTooLarge"


def test_heads_within_the_caps_are_served(server: Server, tenant: Tenant) -> None:
    status, _, body = parsed(exchange(server, request_with([("X-Big", "a" * 60_000)])))
    assert (status, body) == (200, {"status": "ok"})
    status, _, _ = parsed(exchange(server, request_with([(f"X-H{i}", "v") for i in range(90)])))
    assert status == 200
    # The server is still serving signed API calls on fresh connections.
    ssm = make_client(server, tenant)
    assert ssm.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"] == []


def test_header_caps_are_settings(server_factory: ServerFactory) -> None:
    srv = server_factory("--max-header-size", "2048", "--max-header-count", "12")
    status, _, body = parsed(exchange(srv, request_with([("X-Big", "a" * 3000)])))
    assert status == 431 and "2048 bytes" in body["message"]
    status, _, body = parsed(exchange(srv, request_with([(f"X-H{i}", "v") for i in range(12)])))
    assert status == 431 and "12 header fields" in body["message"]
    status, _, _ = parsed(exchange(srv, request_with([("X-Ok", "a" * 1000)])))
    assert status == 200


# --- the access log ---------------------------------------------------------------------


def log_lines(server: Server, wanted: int, match: str) -> list[str]:
    """The server's log lines containing `match`, once at least `wanted` have appeared."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line
            for line in server.stderr_path.read_text(errors="replace").splitlines()
            if match in line
        ]
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_the_access_log_names_operation_status_duration_request_and_key(
    server_factory: ServerFactory, tenant: Tenant
) -> None:
    srv = server_factory()  # the default level and format
    ssm = make_client(srv, tenant)
    rid = new_instance_id()
    put(ssm, rid, "Custom:log", [entry("a")])
    bad = raw_request(srv.url, "AmazonSSM.PutComplianceItems", {}, access_key=tenant.account)
    request_id = bad.headers["x-amzn-requestid"]
    [ok_line] = log_lines(srv, 1, "PutComplianceItems OK")
    assert "POST / 200 PutComplianceItems OK" in ok_line
    assert f"access_key_id={tenant.account}" in ok_line and " ms" in ok_line
    [bad_line] = log_lines(srv, 1, request_id)
    assert "POST / 400 PutComplianceItems ValidationException" in bad_line
    assert f"access_key_id={tenant.account}" in bad_line


def test_json_logs_are_one_object_per_line_and_never_hold_a_secret(
    server_factory: ServerFactory, tmp_path: Any
) -> None:
    secret = "s3cret-value-never-logged-0123456789"
    creds = tmp_path / "credentials.toml"
    creds.write_text(
        '[[keys]]\naccess_key_id = "LOGTESTKEY000000001"\n'
        f'secret_access_key = "{secret}"\naccount_id = "123456789012"\n'
    )
    srv = server_factory("--credentials", str(creds), "--log-format", "json")
    ssm = boto3.client(
        "ssm",
        endpoint_url=srv.url,
        region_name="eu-west-1",
        aws_access_key_id="LOGTESTKEY000000001",
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )
    response = ssm.list_compliance_items()
    request_id = response["ResponseMetadata"]["RequestId"]
    log_lines(srv, 1, request_id)
    text = srv.stderr_path.read_text()
    assert secret not in text
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    [access] = [r for r in records if r.get("request_id") == request_id]
    assert access["logger"] == "complyd.access"
    assert access["operation"] == "ListComplianceItems" and access["code"] == "OK"
    assert access["status"] == 200 and access["access_key_id"] == "LOGTESTKEY000000001"
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    # uvicorn's own lines come in the same format.
    assert any(r["logger"].startswith("uvicorn") for r in records)


def test_the_access_log_can_be_turned_off(server_factory: ServerFactory, tenant: Tenant) -> None:
    srv = server_factory("--no-access-log")
    ssm = make_client(srv, tenant)
    request_id = ssm.list_compliance_items()["ResponseMetadata"]["RequestId"]
    time.sleep(0.3)
    text = srv.stderr_path.read_text()
    assert request_id not in text and "complyd.access" not in text
