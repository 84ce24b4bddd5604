"""Throttling as boto3 sees it, the body cap, the open-mode bind guard and key creation."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.api.harness import Server, launch, server_env

from .conftest import WRITER_A, client, write_credentials


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("throttled")
    creds = write_credentials(directory)
    options = (
        "--credentials",
        str(creds),
        "--rate-limit",
        "4",
        "--rate-burst",
        "3",
        "--max-body-size",
        "2000",
    )
    srv = launch(directory, options)
    yield srv
    srv.stop()


def test_rate_exceeded_without_retries(throttled: Server) -> None:
    # Twelve calls at once against a burst of 3: however slow each call is, most must wait.
    ssm = client(throttled, WRITER_A, max_pool_connections=12)

    def call(_: int) -> str:
        try:
            ssm.list_compliance_summaries()
            return "ok"
        except ClientError as exc:
            assert exc.response["Error"]["Message"] == "Rate exceeded"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            return str(exc.response["Error"]["Code"])

    started = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(call, range(12)))
    elapsed = time.monotonic() - started
    # At most the burst (3) plus what 4 requests/s refill while the calls were under way.
    assert 1 <= codes.count("ok") <= 3 + 4 * elapsed + 1
    assert codes.count("ThrottlingException") == 12 - codes.count("ok") >= 1


def test_boto3_retries_throttling_by_itself(throttled: Server) -> None:
    time.sleep(1)  # let the bucket refill
    ssm = client(throttled, WRITER_A, retries={"mode": "standard", "max_attempts": 10})
    retried = 0
    for _ in range(10):
        response = ssm.list_compliance_summaries()
        retried += response["ResponseMetadata"]["RetryAttempts"]
    assert retried > 0  # some calls were throttled, and boto3 retried them to success


def test_body_cap_answers_before_reading(throttled: Server) -> None:
    time.sleep(1)
    ssm = client(throttled, WRITER_A)
    items = [
        {"Id": f"i{n}", "Title": "x" * 100, "Severity": "LOW", "Status": "COMPLIANT"}
        for n in range(40)
    ]
    with pytest.raises(ClientError) as info:
        ssm.put_compliance_items(
            ResourceId="i-12345678",
            ResourceType="ManagedInstance",
            ComplianceType="Patch",
            ExecutionSummary={"ExecutionTime": 1},
            Items=items,
        )
    assert info.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "2000 bytes" in info.value.response["Error"]["Message"]


def test_chunked_body_over_the_cap_is_refused_before_it_ends(throttled: Server) -> None:
    """A body with no Content-Length is cut off once it passes the cap, without its end."""
    with socket.create_connection(("127.0.0.1", throttled.port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"X-Amz-Target: AmazonSSM.ListComplianceItems\r\n\r\n"
        )
        for _ in range(3):  # 3,000 bytes, past the 2,000-byte cap; the final chunk never comes
            sock.sendall(b"3e8\r\n" + b" " * 1000 + b"\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or b"}" not in reply:
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"RequestEntityTooLargeException" in reply


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "complyd", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=cwd,
        timeout=60,
    )


def test_open_mode_refuses_non_loopback_addresses(tmp_path: Path) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert result.returncode == 2
    assert "refusing to serve 0.0.0.0 in open mode" in result.stderr
    assert "--insecure-open" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_bad_credentials_files_are_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[keys]]\naccess_key_id = "AKIDSHORT"\nsecret_access_key = "s3cr3t-value-long-enough"\n'
        'account_id = "123456789012"\n'
    )
    result = run_cli("serve", "--credentials", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "access_key_id must be 16-128 characters" in result.stderr
    assert "s3cr3t-value-long-enough" not in result.stderr


def test_created_keys_work(tmp_path: Path) -> None:
    creds = tmp_path / "creds.toml"
    made = run_cli(
        "keys", "create", "--account-id", "333333333333", "--append", str(creds), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert creds.stat().st_mode & 0o777 == 0o600
    text = creds.read_text()
    key_id = text.split('access_key_id = "')[1].split('"')[0]
    secret = text.split('secret_access_key = "')[1].split('"')[0]
    srv = launch(tmp_path / "srv", ("--credentials", str(creds)))
    try:
        ssm = client(srv, key_id, secret)
        ssm.put_compliance_items(
            ResourceId="i-12345678",
            ResourceType="ManagedInstance",
            ComplianceType="Patch",
            ExecutionSummary={"ExecutionTime": 1},
            Items=[{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}],
        )
        assert len(ssm.list_compliance_items()["ComplianceItems"]) == 1
    finally:
        srv.stop()
