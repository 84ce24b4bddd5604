"""Fixtures for the reliability suite: real servers on SQLite or on a fresh PostgreSQL schema.

`database` gives each test its own empty store on both backends; `serve` starts a
`complyd serve` process on it and stops it when the test ends (a SIGKILLed server included).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from complyd.config import database_url
from tests.api.harness import Server
from tests.conftest import require_postgres

Serve = Callable[..., Server]


def start_server(directory: Path, db: str | None, options: tuple[str, ...] = ()) -> Server:
    """A healthy server on `db` (a postgresql:// URL), or on a SQLite file in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    srv = Server(db=db or directory / "complyd.db", options=options, log_dir=directory)
    srv.start()
    return srv


class PostgresSchemas:
    """Creates empty schemas on the test database; `drop()` removes them and their tables."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.admin = sa.create_engine(database_url(base), pool_size=1)
        self.made: list[str] = []

    def new(self) -> str:
        schema = "rel_" + uuid.uuid4().hex[:12]
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        self.made.append(schema)
        sep = "&" if "?" in self.base else "?"
        # libpq's options name the schema, so every connection the server opens uses it.
        return f"{self.base}{sep}options={quote(f'-csearch_path={schema}')}"

    def drop(self) -> None:
        with self.admin.begin() as conn:
            for schema in self.made:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.admin.dispose()


def _database(backend: str) -> Iterator[Callable[[], str | None]]:
    if backend == "sqlite":
        yield lambda: None
        return
    schemas = PostgresSchemas(require_postgres())
    try:
        yield schemas.new
    finally:
        schemas.drop()


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
