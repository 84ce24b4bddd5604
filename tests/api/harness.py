"""The test harness: complyd servers, tenants, boto3 clients and raw HTTP calls.

Owns how the suite talks to a server from the outside. It knows nothing about complyd's
internals: a server is `python -m complyd serve ...` plus `GET /healthz`, or the in-process
complyd of `complyd.testing.mock_compliance()`, reached only through its public interface.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from complyd.config import Settings
from complyd.testing import ComplianceMock, mock_compliance
from complyd.testing.server import (
    ComplydProcess,
    environment,
    port_taken,
    start_process,
)

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
DEFAULT_REGION = "us-east-1"
JSON11 = "application/x-amz-json-1.1"


def server_env() -> dict[str, str]:
    """The environment for child processes: the repo's src first, so an uninstalled
    checkout runs too, and no COMPLYD_* settings leaking in from the caller's shell."""
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Server:
    """One complyd process; `restart()` keeps the same --db and options."""

    db: Path | str  # a SQLite file, or a postgresql:// URL
    options: tuple[str, ...]
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        """What the current (or last) process wrote to standard error: its log."""
        return self.log_dir / f"server-{self.starts}.stderr"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "complyd",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            *self.options,
        ]

    def start(self) -> None:
        # A port picked by free_port() can be taken by another process before the server
        # binds it; only that case is retried.
        for _attempt in range(3):
            self.starts += 1
            started = start_process(
                self.log_dir,
                ["--db", str(self.db), *self.options],
                self.stderr_path.name,
                env=server_env(),
            )
            if isinstance(started, ComplydProcess):
                self.port, self.proc = started.port, started.process
                return
            if not port_taken(started):
                break
        pytest.fail(
            f"complyd did not become healthy: {' '.join(self.command())}\n--- stderr ---\n{started}"
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


@dataclass
class InProcessServer:
    """An in-process complyd: `url` is the endpoint its botocore hook answers for (never
    dialled), and `mock` takes raw requests straight to the application."""

    url: str
    mock: ComplianceMock


def in_process(name: str, settings: Settings) -> Iterator[InProcessServer]:
    url = f"http://{name}.complyd-tests.invalid"
    with mock_compliance(settings, endpoint_url=url) as mock:
        yield InProcessServer(url, mock)


def launch(directory: Path, options: tuple[str, ...] = (), db: str | None = None) -> Server:
    """Starts a server logging into `directory`, on `db` (default: a SQLite file there)."""
    directory.mkdir(parents=True, exist_ok=True)
    srv = Server(db=db or directory / "complyd.db", options=options, log_dir=directory)
    srv.start()
    return srv


# --- tenants and clients ----------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    account: str
    region: str = DEFAULT_REGION


_accounts = itertools.count(100_000_000_001)
_ids = itertools.count(1)


def new_account() -> str:
    return f"{next(_accounts):012d}"


def new_tenant(region: str = DEFAULT_REGION) -> Tenant:
    return Tenant(new_account(), region)


def new_instance_id() -> str:
    """A unique id matching ^i-\\w{17}$, increasing in creation order."""
    return f"i-{next(_ids):017x}"


def make_client(
    server: Server | InProcessServer,
    tenant: Tenant,
    *,
    validate: bool = True,
    access_key: str | None = None,
) -> Any:
    return boto3.client(
        "ssm",
        endpoint_url=server.url,
        region_name=tenant.region,
        aws_access_key_id=access_key or tenant.account,
        aws_secret_access_key="x",
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


# --- raw HTTP ---------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    raw: bytes
    body: Any = field(default=None)

    @property
    def error_type(self) -> str:
        return str(self.body.get("__type", "")) if isinstance(self.body, dict) else ""

    @property
    def message(self) -> str:
        if not isinstance(self.body, dict):
            return ""
        return str(self.body.get("message", self.body.get("Message", "")))


def authorization(access_key: str, region: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/ssm/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )


def request_headers(
    target: str | None, access_key: str, region: str, content_type: str = JSON11, auth: bool = True
) -> dict[str, str]:
    headers = {"Content-Type": content_type, "X-Amz-Date": "20260101T000000Z"}
    if target is not None:
        headers["X-Amz-Target"] = target
    if auth:
        headers["Authorization"] = authorization(access_key, region)
    return headers


def encode_body(body: bytes | str | dict[str, Any] | None) -> bytes | None:
    if isinstance(body, dict):
        return json.dumps(body).encode()
    if isinstance(body, str):
        return body.encode()
    return body


def parse_reply(status: int, headers: Any, raw: bytes) -> RawResponse:
    parsed: Any = None
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return RawResponse(status, {k.lower(): v for k, v in headers.items()}, raw, parsed)


def raw_request(
    url: str,
    target: str | None,
    body: bytes | str | dict[str, Any] | None,
    *,
    access_key: str = "AKIDEXAMPLE",
    region: str = DEFAULT_REGION,
    content_type: str = JSON11,
    auth: bool = True,
    method: str = "POST",
    path: str = "/",
) -> RawResponse:
    headers = request_headers(target, access_key, region, content_type, auth)
    req = urllib.request.Request(url + path, data=encode_body(body), headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, hdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, hdrs, raw = err.code, err.headers, err.read()
    return parse_reply(status, hdrs, raw)


@dataclass
class Api:
    """Raw AWS JSON 1.1 calls as one tenant: `api.call("ListComplianceItems", {...})`."""

    server: Server | InProcessServer
    tenant: Tenant

    def call(self, operation: str, body: dict[str, Any] | bytes | str | None) -> RawResponse:
        if isinstance(self.server, InProcessServer):
            headers = request_headers(
                f"AmazonSSM.{operation}", self.tenant.account, self.tenant.region
            )
            data = encode_body(body) or b""
            reply = self.server.mock.request("POST", "/", headers=headers, body=data)
            return parse_reply(reply.status, reply.headers, reply.body)
        return raw_request(
            self.server.url,
            f"AmazonSSM.{operation}",
            body,
            access_key=self.tenant.account,
            region=self.tenant.region,
        )

    def ok(self, operation: str, body: dict[str, Any]) -> Any:
        resp = self.call(operation, body)
        assert resp.status == 200, (resp.status, resp.raw)
        return resp.body

    def error(self, operation: str, body: dict[str, Any] | bytes | str | None) -> RawResponse:
        resp = self.call(operation, body)
        assert resp.status == 400, (resp.status, resp.raw)
        return resp


def dashboard_request(
    srv: Server, method: str, path: str, cookie: str = "", body: str = ""
) -> tuple[int, str, str]:
    """A dashboard request: (status, the session cookie to send next, body), without following
    redirects; `body` is a urlencoded form."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode()
    set_cookie = resp.getheader("Set-Cookie") or ""
    conn.close()
    return resp.status, set_cookie.split(";", 1)[0] or cookie, text
