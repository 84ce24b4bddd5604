"""Load generation: pre-signed requests replayed by wrk over keep-alive connections.

Requests are signed once with botocore's SigV4 signer (valid for 15 minutes, as on AWS) and
written into a Lua script that wrk cycles through, so client cost stays out of the figures.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "BENCHKEY000000000001"
SECRET = "bench-secret-0123456789abcdef"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def credentials_toml() -> str:
    return (
        f'[[keys]]\naccess_key_id = "{ACCESS_KEY}"\nsecret_access_key = "{SECRET}"\n'
        f'account_id = "{ACCOUNT}"\n'
    )


def signed_raw(port: int, operation: str, body: dict[str, Any]) -> bytes:
    """One complete HTTP/1.1 request, signed, as bytes."""
    data = json.dumps(body, separators=(",", ":")).encode()
    host = f"127.0.0.1:{port}"
    request = AWSRequest(
        "POST",
        f"http://{host}/",
        data=data,
        headers={
            "X-Amz-Target": f"AmazonSSM.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "ssm", REGION).add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}"]
    lines += [
        f"{k}: {v}"
        for k, v in request.headers.items()
        if k.lower() not in ("host", "content-length")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _lua_string(raw: bytes) -> str:
    out = []
    for byte in raw:
        ch = chr(byte)
        if ch in '\\"':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(requests: list[bytes]) -> str:
    parts = ["local requests = {}"]
    parts += [f"requests[{n}] = {_lua_string(raw)}" for n, raw in enumerate(requests, start=1)]
    parts.append(
        "local i = 0\n"
        "function init(args) i = math.random(#requests) - 1 end\n"
        "function request()\n  i = i % #requests + 1\n  return requests[i]\nend\n"
    )
    return "\n".join(parts)


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def line(self) -> str:
        return (
            f"{self.requests_per_s:10,.0f} req/s  p50 {self.p50_ms:7.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  ({self.requests:,} requests, {self.errors} errors)"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(
    port: int, requests: list[bytes], connections: int, seconds: float, threads: int = 2
) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(requests))
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(threads, connections)),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return LoadResult(rps, p50, p99, total, errors)


def replay_once(port: int, requests: list[bytes]) -> None:
    """Send each request once, in order, on one keep-alive connection; every answer must be
    200."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for raw in requests:
            sock.sendall(raw)
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
