"""A fresh store per test, on every backend: SQLite files, PostgreSQL schemas and the
in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complyd.config import database_url
from complyd.storage.memory import memory_url
from complyd.storage.sql import SqlStore
from tests.conftest import require_postgres
from tests.postgres import schemas


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield database_url(str(tmp_path / "store.db"))
        return
    if request.param == "memory":
        yield memory_url()
        return
    with schemas(database_url(require_postgres())) as made:
        yield made.new("t")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = SqlStore(store_url)
    yield s
    s.close()
