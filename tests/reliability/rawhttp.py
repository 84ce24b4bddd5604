"""Raw AWS JSON 1.1 requests over one keep-alive connection, and what every error must look like.

Owns sending arbitrary bytes and headers (http.client, no SDK in the way), the shape checks of
an AWS error answer, and a whole-tenant snapshot read over the same connection. A socket
timeout turns a hung server into a test failure instead of a hung suite.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any

JSON11 = "application/x-amz-json-1.1"
TIMEOUT_S = 15.0
AMZ_DATE = "20260101T000000Z"


def authorization(access_key: str, region: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/ssm/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes
    body: Any = field(default=None)

    def describe(self) -> str:
        return f"HTTP {self.status} {self.headers} {self.raw[:300]!r}"


class KeepAlive:
    """One HTTP/1.1 connection to a server, reopened only when the server closed it."""

    def __init__(self, port: int, access_key: str, region: str = "us-east-1") -> None:
        self.port = port
        self.access_key = access_key
        self.region = region
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        self.reconnects = 0

    def close(self) -> None:
        self.conn.close()

    def headers(self, target: str | None) -> dict[str, str]:
        out = {
            "Content-Type": JSON11,
            "X-Amz-Date": AMZ_DATE,
            "Authorization": authorization(self.access_key, self.region),
        }
        if target is not None:
            out["X-Amz-Target"] = target
        return out

    def send(
        self,
        target: str | None,
        body: bytes,
        headers: dict[str, str | None] | None = None,
    ) -> Answer:
        """POST / with `body`; `headers` override the defaults, None removing one."""
        sent = dict(self.headers(target))
        for name, value in (headers or {}).items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        try:
            return self._send_once(body, sent)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server may close a connection after refusing a request (say, one whose
            # body it did not read); open a new one. Refused requests are safe to repeat.
            self.conn.close()
            self.reconnects += 1
            return self._send_once(body, sent)

    def _send_once(self, body: bytes, headers: dict[str, str]) -> Answer:
        self.conn.request("POST", "/", body=body, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        parsed: Any = None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        answer = Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw, parsed)
        if resp.will_close:
            self.conn.close()
        return answer

    def call(self, operation: str, body: dict[str, Any]) -> Any:
        answer = self.send(f"AmazonSSM.{operation}", json.dumps(body).encode())
        assert answer.status == 200, answer.describe()
        return answer.body


def assert_aws_error(answer: Answer, expected: frozenset[str] | set[str]) -> None:
    """A 4xx whose body is {"__type": one of `expected`, "message": ...}, with a request id."""
    assert 400 <= answer.status < 500, answer.describe()
    assert answer.headers.get("x-amzn-requestid"), answer.describe()
    assert answer.headers.get("content-type", "").startswith(JSON11), answer.describe()
    body = answer.body
    assert isinstance(body, dict), answer.describe()
    assert isinstance(body.get("__type"), str) and body["__type"], answer.describe()
    assert isinstance(body.get("message"), str) and body["message"], answer.describe()
    assert body["__type"] in expected, (sorted(expected), answer.describe())


def _pages(conn: KeepAlive, operation: str, member: str) -> list[Any]:
    rows: list[Any] = []
    body: dict[str, Any] = {}
    while True:
        page = conn.call(operation, body)
        rows.extend(page[member])
        if not page.get("NextToken"):
            return rows
        body = {"NextToken": page["NextToken"]}


def snapshot(conn: KeepAlive) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything the connection's tenant holds: items, resource rows and fleet rows."""
    return (
        _pages(conn, "ListComplianceItems", "ComplianceItems"),
        _pages(conn, "ListResourceComplianceSummaries", "ResourceComplianceSummaryItems"),
        _pages(conn, "ListComplianceSummaries", "ComplianceSummaryItems"),
    )
