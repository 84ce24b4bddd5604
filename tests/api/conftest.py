"""Fixtures for the black-box API suite.

One session-scoped server with default options (and one with --any-resource-id) serves almost
every test; each test gets a fresh tenant, so tests never see each other's data. Tests that
need special limits or restarts start private servers through `server_factory`.

Every test that uses a server runs three times: on a `complyd serve` process over SQLite, on one
over PostgreSQL with a fresh schema per server, and on the in-process complyd of
`mock_compliance()`. Tests that need a process (private servers, restarts, raw HTTP to the
server's URL, the CLI) are marked `process`, or use `server_factory`, and are not collected
in-process.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from complyd.config import Settings
from tests.conftest import require_postgres
from tests.postgres import schemas

from .harness import (
    Api,
    InProcessServer,
    Server,
    Tenant,
    in_process,
    launch,
    make_client,
    new_tenant,
)

ServerFactory = Callable[..., Server]
ClientFactory = Callable[..., Any]
IN_PROCESS = "in-process"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "process: needs a complyd process, so never runs on the in-process complyd"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The in-process run of a test that needs a process is not collected (not skipped: it
    was never meant to run there)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        in_proc = callspec is not None and callspec.params.get("serving") == IN_PROCESS
        needs_process = item.get_closest_marker("process") is not None or (
            "server_factory" in getattr(item, "fixturenames", ())
        )
        (dropped if in_proc and needs_process else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=["sqlite", "postgresql", IN_PROCESS])
def serving(request: pytest.FixtureRequest) -> str:
    """What serves the test: a process on SQLite or PostgreSQL, or the in-process complyd."""
    return str(request.param)


@pytest.fixture(scope="session")
def fresh_db(serving: str) -> Iterator[Callable[[], str | None]]:
    """fresh_db() is the --db of a new, empty database: None (a SQLite file in the server's
    directory) or a new PostgreSQL schema."""
    if serving != "postgresql":
        yield lambda: None
        return
    with schemas(require_postgres()) as made:
        yield lambda: made.new("api")


def serve(
    serving: str,
    name: str,
    directory: Callable[[], Path],
    fresh_db: Callable[[], str | None],
    options: tuple[str, ...] = (),
    settings: Settings | None = None,
) -> Iterator[Server | InProcessServer]:
    if serving == IN_PROCESS:
        yield from in_process(name, settings or Settings())
        return
    srv = launch(directory(), options, db=fresh_db())
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def server(
    serving: str, tmp_path_factory: pytest.TempPathFactory, fresh_db: Callable[[], str | None]
) -> Iterator[Server | InProcessServer]:
    yield from serve(serving, "default", lambda: tmp_path_factory.mktemp("server"), fresh_db)


@pytest.fixture(scope="session")
def any_id_server(
    serving: str, tmp_path_factory: pytest.TempPathFactory, fresh_db: Callable[[], str | None]
) -> Iterator[Server | InProcessServer]:
    yield from serve(
        serving,
        "any-id",
        lambda: tmp_path_factory.mktemp("anyid"),
        fresh_db,
        ("--any-resource-id",),
        Settings(any_resource_id=True),
    )


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
