"""Fixtures for the reliability suite: real servers on SQLite or on a fresh PostgreSQL schema.

`database` gives each test its own empty store on both backends; `serve` starts a
`complyd serve` process on it and stops it when the test ends (a SIGKILLed server included).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.harness import Server
from tests.conftest import require_postgres
from tests.postgres import schemas

Serve = Callable[..., Server]


def start_server(directory: Path, db: str | None, options: tuple[str, ...] = ()) -> Server:
    """A healthy server on `db` (a postgresql:// URL), or on a SQLite file in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    srv = Server(db=db or directory / "complyd.db", options=options, log_dir=directory)
    srv.start()
    return srv


def _database(backend: str) -> Iterator[Callable[[], str | None]]:
    if backend == "sqlite":
        yield lambda: None
        return
    with schemas(require_postgres()) as made:
        yield lambda: made.new("rel")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """database() is the --db of a new empty store: None (SQLite) or a fresh PG schema."""
    yield from _database(request.param)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    yield from _database(request.param)


@pytest.fixture
def serve(tmp_path: Path, database: Callable[[], str | None]) -> Iterator[Serve]:
    """serve(*options) starts a server on this test's store; restarts keep the same store."""
    started: list[Server] = []
    counter = itertools.count()
    db = database()

    def make(*options: str) -> Server:
        srv = start_server(tmp_path / f"srv{next(counter)}", db, options)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()
