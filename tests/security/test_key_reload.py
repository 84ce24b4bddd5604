"""`complyd keys list` / `keys revoke`, and a running server reloading its credentials file on
SIGHUP: new keys work, revoked keys stop and their dashboard sessions end, and requests running
meanwhile all succeed."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from tests.api.harness import Server, dashboard_request, launch
from tests.operator.runner import complyd

from .conftest import client

ACCOUNT = "123412341234"


def create_key(path: Path, *extra: str) -> tuple[str, str]:
    """A new key appended to `path`; (access key id, secret) read back from the file."""
    done = complyd("keys", "create", "--account-id", ACCOUNT, *extra, "--append", str(path))
    key_id = re.search(r"access key (\w+)", done.stdout).group(1)  # type: ignore[union-attr]
    text = path.read_text()
    block = text[text.index(f'access_key_id = "{key_id}"') :]
    secret = re.search(r'secret_access_key = "([^"]+)"', block).group(1)  # type: ignore[union-attr]
    return key_id, secret


def listed(path: Path) -> list[dict[str, object]]:
    out = complyd("keys", "list", "--credentials", str(path), "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


def test_keys_list_and_revoke_edit_the_file_and_never_show_secrets(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    first, first_secret = create_key(path)
    reader, reader_secret = create_key(path, "--read-only")
    path.write_text("# complyd keys, rotated in March\n" + path.read_text())
    third, _ = create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600

    assert listed(path) == [
        {"AccessKeyId": first, "AccountId": ACCOUNT, "ReadOnly": False, "Role": ""},
        {"AccessKeyId": reader, "AccountId": ACCOUNT, "ReadOnly": True, "Role": ""},
        {"AccessKeyId": third, "AccountId": ACCOUNT, "ReadOnly": False, "Role": ""},
    ]
    table = complyd("keys", "list", "--credentials", str(path)).stdout
    assert first in table and reader in table and ACCOUNT in table
    assert first_secret not in table and reader_secret not in table

    done = complyd("keys", "revoke", "--credentials", str(path), reader)
    assert f"revoked access key {reader}" in done.stdout and reader_secret not in done.stdout
    assert [k["AccessKeyId"] for k in listed(path)] == [first, third]
    text = path.read_text()
    assert (
        text.startswith("# complyd keys, rotated in March\n")
        and reader not in text
        and reader_secret not in text
    )
    assert path.stat().st_mode & 0o777 == 0o600

    unknown = complyd("keys", "revoke", "--credentials", str(path), reader, ok=False)
    assert unknown.returncode == 1 and f"has no access key {reader}" in unknown.stderr
    complyd("keys", "revoke", "--credentials", str(path), third)
    last = complyd("keys", "revoke", "--credentials", str(path), first, ok=False)
    assert last.returncode == 1 and "only key" in last.stderr
    assert [k["AccessKeyId"] for k in listed(path)] == [first]


def sign_in(srv: Server, key_id: str, secret: str) -> str:
    _, cookie, page = dashboard_request(srv, "GET", "/ui/login")
    csrf = html.unescape(re.search(r'name="csrf" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    form = urlencode({"csrf": csrf, "access_key_id": key_id, "secret_access_key": secret})
    status, cookie, _ = dashboard_request(srv, "POST", "/ui/login", cookie, form)
    assert status == 303
    return cookie


def works(srv: Server, key_id: str, secret: str) -> bool:
    try:
        client(srv, key_id, secret).list_compliance_summaries()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "UnrecognizedClientException"
        return False
    return True


def wait_until(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail("the server did not pick up the reloaded credentials")


def test_sighup_reloads_the_credentials_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    steady, steady_secret = create_key(path)
    leaving, leaving_secret = create_key(path)
    srv = launch(tmp_path / "srv", ("--credentials", str(path)))
    assert srv.proc is not None
    pid = srv.proc.pid
    try:
        session = sign_in(srv, leaving, leaving_secret)
        assert dashboard_request(srv, "GET", "/ui/", session)[0] == 200

        # A steady client keeps calling through every reload; none of its calls may fail.
        stop, calls, failures = threading.Event(), [0], []

        def keep_calling() -> None:
            ssm = client(srv, steady, steady_secret)
            while not stop.is_set():
                try:
                    ssm.put_compliance_items(
                        ResourceId="i-0123456789abcdef0",
                        ResourceType="ManagedInstance",
                        ComplianceType="Custom:Probe",
                        ExecutionSummary={"ExecutionTime": time.time()},
                        Items=[{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}],
                    )
                    ssm.list_compliance_summaries()
                    calls[0] += 1
                except Exception as exc:  # noqa: BLE001
                    failures.append(repr(exc))

        caller = threading.Thread(target=keep_calling)
        caller.start()
        try:
            joining, joining_secret = create_key(path)
            assert not works(srv, joining, joining_secret)
            complyd("keys", "revoke", "--credentials", str(path), leaving)
            os.kill(pid, signal.SIGHUP)
            wait_until(lambda: works(srv, joining, joining_secret))
            assert not works(srv, leaving, leaving_secret)
            # The revoked key's dashboard session ended with it.
            status, _, _ = dashboard_request(srv, "GET", "/ui/", session)
            assert status == 303

            # A file that no longer loads is refused; the keys in use stay.
            good = path.read_text()
            path.write_text(good + '\n[[keys]]\naccess_key_id = "lower-case"\n')
            os.kill(pid, signal.SIGHUP)
            wait_until(lambda: "credentials not reloaded" in server_log(srv))
            assert works(srv, joining, joining_secret) and works(srv, steady, steady_secret)
            path.write_text(good)
            time.sleep(0.3)
        finally:
            stop.set()
            caller.join(timeout=30)
        assert failures == [] and calls[0] > 0
        assert srv.proc is not None and srv.proc.pid == pid and srv.proc.poll() is None
        assert leaving_secret not in server_log(srv) and steady_secret not in server_log(srv)
    finally:
        srv.stop()


def server_log(srv: Server) -> str:
    return (srv.log_dir / f"server-{srv.starts}.stderr").read_text(errors="replace")
