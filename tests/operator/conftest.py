"""Fixtures for the operator features: private servers on their own databases.

Each test that needs a server starts its own (`server_factory`), so what the CLI, the exports
and the metrics report is exactly what the test put.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.harness import Server, launch
from tests.conftest import require_postgres
from tests.postgres import schemas

ServerFactory = Callable[..., Server]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """server_factory("--history-days", "1") starts a private server on its own SQLite db."""
    started: list[Server] = []
    counter = itertools.count()

    def make(*options: str) -> Server:
        srv = launch(tmp_path / f"srv{next(counter)}", tuple(options))
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def server(server_factory: ServerFactory) -> Server:
    return server_factory()


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A URL of a fresh PostgreSQL schema, dropped afterwards."""
    with schemas(require_postgres()) as made:
        yield made.new("op")
