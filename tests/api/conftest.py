"""Fixtures for the black-box API suite.

One session-scoped server with default options (and one with --any-resource-id) serves almost
every test; each test gets a fresh tenant, so tests never see each other's data. Tests that
need special limits or restarts start private servers through `server_factory`. Every test
that uses a server runs on both stores: SQLite, and PostgreSQL with a fresh schema per server.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_postgres
from tests.postgres import schemas

from .harness import Api, Server, Tenant, launch, make_client, new_tenant

ServerFactory = Callable[..., Server]
ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def fresh_db(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """Every server-backed test runs once per store. fresh_db() is the --db of a new, empty
    database: None (a SQLite file in the server's directory) or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield lambda: None
        return
    with schemas(require_postgres()) as made:
        yield lambda: made.new("api")


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, fresh_db: Callable[[], str | None]
) -> Iterator[Server]:
    srv = launch(tmp_path_factory.mktemp("server"), db=fresh_db())
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def any_id_server(
    tmp_path_factory: pytest.TempPathFactory, fresh_db: Callable[[], str | None]
) -> Iterator[Server]:
    srv = launch(tmp_path_factory.mktemp("anyid"), ("--any-resource-id",), db=fresh_db())
    yield srv
    srv.stop()


@pytest.fixture
def server_factory(tmp_path: Path, fresh_db: Callable[[], str | None]) -> Iterator[ServerFactory]:
    """server_factory("--item-size-limit", "2000") starts a private server on its own db."""
    started: list[Server] = []
    counter = itertools.count()

    def make(*options: str) -> Server:
        srv = launch(tmp_path / f"srv{next(counter)}", tuple(options), db=fresh_db())
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def tenant() -> Tenant:
    return new_tenant()


@pytest.fixture
def client_for(server: Server) -> ClientFactory:
    """client_for(tenant, validate=True, access_key=None): a client on the shared server."""

    def make(tenant: Tenant, *, validate: bool = True, access_key: str | None = None) -> Any:
        return make_client(server, tenant, validate=validate, access_key=access_key)

    return make


@pytest.fixture
def ssm(server: Server, tenant: Tenant) -> Any:
    return make_client(server, tenant)


@pytest.fixture
def loose_ssm(server: Server, tenant: Tenant) -> Any:
    """A client without botocore's checks, to send MaxResults=0, empty lists and the like."""
    return make_client(server, tenant, validate=False)


@pytest.fixture
def api(server: Server, tenant: Tenant) -> Api:
    return Api(server, tenant)
