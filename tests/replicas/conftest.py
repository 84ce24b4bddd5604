"""Fixtures for replica tests: several real `complyd serve` processes on one PostgreSQL schema.

Each test gets a fresh, empty schema; its replicas start at the same moment, so every test
also exercises concurrent migration from empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.api.harness import Server, launch
from tests.conftest import require_postgres
from tests.postgres import schemas

Replicas = Callable[[int], list[Server]]


@pytest.fixture
def shared_db() -> Iterator[str]:
    """The --db URL of a new, empty PostgreSQL schema, dropped after the test."""
    with schemas(require_postgres()) as made:
        yield made.new("replicas")


@pytest.fixture
def replicas(shared_db: str, tmp_path: Path) -> Iterator[Replicas]:
    """replicas(n): n servers on `shared_db`, started together; all stopped after the test."""
    started: list[Server] = []

    def start(n: int, *options: str) -> list[Server]:
        def one(k: int) -> Server:
            return launch(tmp_path / f"replica{len(started) + k}", tuple(options), db=shared_db)

        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(one, k) for k in range(n)]
        servers, failures = [], []
        for future in futures:
            try:
                servers.append(future.result())
            except BaseException as exc:  # noqa: BLE001 - re-raised once the rest are kept
                failures.append(exc)
        started.extend(servers)  # so the ones that did start are stopped
        if failures:
            raise failures[0]
        return servers

    yield start
    for srv in started:
        srv.stop()
