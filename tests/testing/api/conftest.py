"""The black-box API fixtures of tests/api, served by mock_compliance() instead of a process.

Each module here collects the tests of one tests/api module again; their `server` is an
in-process complyd reached only through the botocore hook (its URL is never dialled), and raw
protocol calls (`api`) go straight to the same application. Tests that need a process (restarts,
the AWS CLI, private servers with other flags) stay in tests/api only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from complyd.config import Settings
from complyd.testing import ComplianceMock, mock_compliance
from tests.api.harness import (
    JSON11,
    Api,
    RawResponse,
    Tenant,
    authorization,
    make_client,
    new_tenant,
)


@dataclass
class InProcessServer:
    """What the API tests need of a server: its URL, here the endpoint the mock answers for."""

    url: str
    mock: ComplianceMock


@dataclass
class InProcessApi(Api):
    """harness.Api's raw calls, sent to the in-process application."""

    server: InProcessServer  # type: ignore[assignment]

    def call(self, operation: str, body: dict[str, Any] | bytes | str | None) -> RawResponse:
        if isinstance(body, dict):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        headers = {
            "Content-Type": JSON11,
            "X-Amz-Date": "20260101T000000Z",
            "X-Amz-Target": f"AmazonSSM.{operation}",
            "Authorization": authorization(self.tenant.account, self.tenant.region),
        }
        reply = self.server.mock.request("POST", "/", headers=headers, body=data)
        try:
            parsed = json.loads(reply.body) if reply.body else None
        except ValueError:
            parsed = None
        return RawResponse(reply.status, reply.headers, reply.body, parsed)


def in_process(name: str, settings: Settings) -> Iterator[InProcessServer]:
    url = f"http://{name}.complyd-tests.invalid"
    with mock_compliance(settings, endpoint_url=url) as mock:
        yield InProcessServer(url, mock)


# Package scope: the mocks end with these tests instead of lasting the whole session.
@pytest.fixture(scope="package")
def server() -> Iterator[InProcessServer]:
    yield from in_process("default", Settings())


@pytest.fixture(scope="package")
def any_id_server() -> Iterator[InProcessServer]:
    yield from in_process("any-id", Settings(any_resource_id=True))


@pytest.fixture
def tenant() -> Tenant:
    return new_tenant()


@pytest.fixture
def ssm(server: InProcessServer, tenant: Tenant) -> Any:
    return make_client(server, tenant)  # type: ignore[arg-type]


@pytest.fixture
def loose_ssm(server: InProcessServer, tenant: Tenant) -> Any:
    return make_client(server, tenant, validate=False)  # type: ignore[arg-type]


@pytest.fixture
def api(server: InProcessServer, tenant: Tenant) -> Api:
    return InProcessApi(server, tenant)
