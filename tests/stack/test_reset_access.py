"""Who may reset: open mode on loopback, or a key with role = "admin"; everyone else gets a 403.

Keyed servers are real processes signed to with botocore's SigV4. The open-mode address rules
need a peer or a listener that is not loopback, which a test must not open on this machine,
so they drive the real application in-process through httpx's ASGI transport, which hands the
application the client address it is given.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from complyd.config import ConfigError, Settings, load_credentials
from complyd.storage.memory import memory_url
from complyd.storage.sql import SqlStore
from complyd.testing import ComplydProcess, run_server
from complyd.web.app import create_app
from tests.api.reference import entry, list_items, put

from .conftest import ssm_client

NODE = "i-0123456789abcdef0"
ACCOUNT = "111111111111"
KEYS = {
    # access key id: (secret, role)
    "AKIDADMIN0000000001": ("admin-secret-0123456789", "admin"),
    "AKIDAUDITOR00000001": ("auditor-secret-0123456789", "auditor"),
    "AKIDWRITER00000001": ("writer-secret-0123456789", ""),
}
ADMIN, AUDITOR, WRITER = KEYS


def credentials_file(directory: Path) -> Path:
    path = directory / "credentials.toml"
    entries = []
    for key_id, (secret, role) in KEYS.items():
        entry_text = (
            f'[[keys]]\naccess_key_id = "{key_id}"\nsecret_access_key = "{secret}"\n'
            f'account_id = "{ACCOUNT}"\n'
        )
        entries.append(entry_text + (f'role = "{role}"\n' if role else ""))
    path.write_text("\n".join(entries))
    return path


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComplydProcess]:
    creds = credentials_file(tmp_path_factory.mktemp("reset-keys"))
    with run_server("--credentials", str(creds), memory=True) as server:
        yield server


def send_reset(
    server: ComplydProcess, body: bytes, key_id: str | None, secret: str | None = None
) -> tuple[int, dict[str, Any]]:
    request = AWSRequest("POST", server.url + "/_complyd/reset", data=body)
    if key_id is not None:
        creds = Credentials(key_id, secret if secret is not None else KEYS[key_id][0])
        SigV4Auth(creds, "ssm", "us-east-1").add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/_complyd/reset", body=body, headers=dict(request.headers.items()))
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def stored_ids(server: ComplydProcess) -> list[str]:
    ssm = ssm_client(server.url, WRITER, secret=KEYS[WRITER][0])
    return [i["Id"] for i in list_items(ssm, NODE)]


@pytest.fixture
def filled(keyed: ComplydProcess) -> ComplydProcess:
    ssm = ssm_client(keyed.url, WRITER, secret=KEYS[WRITER][0])
    put(ssm, NODE, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
    assert stored_ids(keyed) == ["KB1"]
    return keyed


TENANT = json.dumps({"AccountId": ACCOUNT, "Region": "us-east-1"}).encode()


def test_an_admin_key_resets(filled: ComplydProcess) -> None:
    assert send_reset(filled, TENANT, ADMIN) == (200, {})
    assert stored_ids(filled) == []


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        (WRITER, None, "AccessDeniedException"),
        (AUDITOR, None, "AccessDeniedException"),
        (None, None, "MissingAuthenticationTokenException"),
        (ADMIN, "not-the-admin-secret-000", "InvalidSignatureException"),
        ("AKIDSTRANGER0000001", "stranger-secret-0123456789", "UnrecognizedClientException"),
    ],
)
def test_everyone_else_gets_a_403_and_nothing_changes(
    filled: ComplydProcess, key_id: str | None, secret: str | None, code: str
) -> None:
    status, body = send_reset(filled, TENANT, key_id, secret)
    assert (status, body["__type"]) == (403, code)
    assert body["message"]
    assert stored_ids(filled) == ["KB1"]


def test_the_refusal_says_what_would_be_allowed(filled: ComplydProcess) -> None:
    _status, body = send_reset(filled, b"", WRITER)
    assert WRITER in body["message"] and 'role = "admin"' in body["message"]


def reset_in_process(host: str, client: str, body: bytes = b"") -> httpx.Response:
    store = SqlStore(memory_url())
    app = create_app(Settings(host=host), store)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://complyd") as http:
            return await http.post("/_complyd/reset", content=body)

    # In a thread of its own: the test's thread may already run an event loop (Playwright's).
    try:
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, call()).result()
    finally:
        store.close()


@pytest.mark.parametrize("client", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_open_mode_resets_from_loopback(client: str) -> None:
    response = reset_in_process("127.0.0.1", client)
    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize(
    ("host", "client"),
    [("127.0.0.1", "203.0.113.7"), ("127.0.0.1", "::ffff:198.51.100.2"), ("0.0.0.0", "127.0.0.1")],
)
def test_open_mode_refuses_other_addresses(host: str, client: str) -> None:
    response = reset_in_process(host, client)
    assert response.status_code == 403
    assert response.json()["__type"] == "AccessDeniedException"
    assert "loopback" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b'{"AccountId": "111111111111"}', "ValidationException", "both AccountId and Region"),
        (b'{"Region": "us-east-1"}', "ValidationException", "both AccountId and Region"),
        (b'{"AccountId": "1111", "Region": "us-east-1"}', "ValidationException", "12-digit"),
        (b'{"AccountId": 111111111111, "Region": "us-east-1"}', "ValidationException", "12-digit"),
        (
            b'{"AccountId": "111111111111", "Region": "not a region"}',
            "ValidationException",
            "region name",
        ),
        (b'{"Tenant": "all"}', "ValidationException", "Unknown member(s) Tenant"),
        (b"[1, 2]", "SerializationException", "JSON object"),
        (b"{not json", "SerializationException", "not valid JSON"),
    ],
)
def test_a_malformed_reset_is_a_400_that_changes_nothing(
    body: bytes, code: str, words: str
) -> None:
    response = reset_in_process("127.0.0.1", "127.0.0.1", body)
    assert response.status_code == 400
    assert response.json()["__type"] == code
    assert words in response.json()["message"]
    assert response.headers["x-amzn-RequestId"]


def test_roles_in_the_credentials_file(tmp_path: Path) -> None:
    keys = load_credentials(credentials_file(tmp_path))
    assert {k: v.role for k, v in keys.items()} == {ADMIN: "admin", AUDITOR: "auditor", WRITER: ""}
    for bad in ('"root"', "true", '"Admin"'):
        path = tmp_path / "bad.toml"
        path.write_text(
            f'[[keys]]\naccess_key_id = "{WRITER}"\nsecret_access_key = "{KEYS[WRITER][0]}"\n'
            f'account_id = "{ACCOUNT}"\nrole = {bad}\n'
        )
        with pytest.raises(ConfigError) as raised:
            load_credentials(path)
        message = str(raised.value)
        assert 'role must be "admin" or "auditor"' in message and WRITER in message
        assert KEYS[WRITER][0] not in message


def test_a_server_without_keys_resets_through_the_fixture_helper() -> None:
    with run_server(memory=True) as server:
        ssm = ssm_client(server.url)
        put(ssm, NODE, "Patch", [entry("KB1", "LOW", "COMPLIANT")])
        server.reset()
        assert list_items(ssm, NODE) == []
